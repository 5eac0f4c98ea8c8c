"""Talk to ``aria-tray --native-host`` the way a browser does: length-prefixed JSON on stdio."""

from __future__ import annotations

import json
import struct
import subprocess
from dataclasses import dataclass
from typing import Any

from support.app_process import AppHome, launch_command

EXTENSION_ORIGIN = "chrome-extension://baooipemjphkiohjnedhlllmccnfoban/"


def frame(message: Any) -> bytes:
    """One browser-to-host message: 32-bit little-endian length, then UTF-8 JSON."""
    body = message if isinstance(message, bytes) else json.dumps(message).encode("utf-8")
    return struct.pack("<I", len(body)) + body


def unframe_all(data: bytes) -> list[dict[str, Any]]:
    """Every reply in ``data``; fails the test on a torn or non-JSON reply."""
    replies = []
    while data:
        assert len(data) >= 4, f"torn reply length: {data!r}"
        (length,) = struct.unpack("<I", data[:4])
        body, data = data[4 : 4 + length], data[4 + length :]
        assert len(body) == length, "torn reply body"
        replies.append(json.loads(body))
    return replies


@dataclass
class HostRun:
    returncode: int
    replies: list[dict[str, Any]]
    stderr: str


def run_host(home: AppHome, stdin: bytes, timeout: float = 60.0) -> HostRun:
    """Start the host as Chromium does (origin argument included), feed ``stdin``, close it."""
    done = subprocess.run(
        [*launch_command(), "--native-host", EXTENSION_ORIGIN],
        input=stdin,
        env=home.env(),
        capture_output=True,
        timeout=timeout,
    )
    return HostRun(done.returncode, unframe_all(done.stdout), done.stderr.decode(errors="replace"))

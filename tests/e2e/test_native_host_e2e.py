"""The native messaging host, started the way a browser starts it, against a real app.

Acceptance items: a hostile message (a 1 GiB length prefix, bad JSON,
unknown fields, a ``file://`` or ``javascript:`` URL) gets a clear refusal,
the host exits cleanly and the app is unaffected; cookies reach the server
through aria2, and their value is nowhere in the app home or its log once
the download is complete; the host starts Aria Tray when it is not running.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from e2e_support import counts, start_primary

from aria2_core.atomic_file import read_bytes
from support.app_process import AppHome, wait_until
from support.http_server import FileServer, Guard, PayloadFactory, sha256_of
from support.native_messaging import frame, run_host

pytestmark = pytest.mark.e2e

COOKIE = "login=c00kie-value-never-stored-4711"


def download_message(url: str, **fields: str) -> dict[str, object]:
    return {"type": "download", "downloads": [{"url": url, **fields}]}


def test_hostile_messages_are_refused_and_the_app_is_unaffected(app_home: AppHome) -> None:
    primary, status = start_primary(app_home)
    good = download_message("https://example.invalid/a.bin")
    messages = [
        b"{not json",
        {"type": "download", "downloads": [{"url": "https://e.invalid/a"}], "extra": 1},
        {"type": "download", "downloads": [{"url": "https://e.invalid/a", "token": "x"}]},
        {"type": "format-disk"},
        download_message("file:///etc/passwd"),
        download_message("javascript:alert(1)"),
        download_message("https://e.invalid/a", cookies=5),  # type: ignore[arg-type]
        {"type": "ping"},
    ]
    run = run_host(app_home, b"".join(frame(m) for m in messages))

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    reasons = [r.get("reason", "") for r in run.replies]
    assert [r["status"] for r in run.replies] == ["refused"] * 7 + ["ok"]
    assert "not valid JSON" in reasons[0]
    assert "unknown field(s): extra" in reasons[1]
    assert "unknown field(s): token" in reasons[2]
    assert "unknown message type" in reasons[3]
    assert "not file: link" in reasons[4]
    assert "not javascript: link" in reasons[5]
    assert "'cookies' must be a string" in reasons[6]

    # A 1 GiB length prefix: refused without reading (or waiting for) a gigabyte.
    huge = run_host(app_home, struct.pack("<I", 1 << 30) + b"{}" + frame(good))
    assert huge.returncode == 1
    assert "Traceback" not in huge.stderr
    assert len(huge.replies) == 1 and huge.replies[0]["status"] == "refused"
    assert "over the 1048576-byte limit" in huge.replies[0]["reason"]

    # The app: same primary, nothing journaled or added, still answering.
    after = app_home.wait_ready()
    assert after["app_pid"] == status["app_pid"] == primary.pid
    assert after["pending_links"] == 0
    assert app_home.all_uris() == set()
    assert counts(app_home) == (1, 1)


def _protected(http_server: FileServer, payload_factory: PayloadFactory) -> tuple[str, str, str]:
    payload = payload_factory("members/report.bin", 300 * 1024)
    http_server.guards["members/report.bin"] = Guard(cookie=COOKIE, referer="http://127.0.0.1")
    return payload.url, payload.sha256, payload.name


def test_cookies_reach_the_server_and_are_kept_nowhere(
    app_home: AppHome, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    url, digest, _ = _protected(http_server, payload_factory)
    start_primary(app_home)
    message = download_message(
        url,
        cookies=COOKIE,
        referrer=http_server.url("members/index.html"),
        userAgent="AriaTrayTest/1.0 (browser)",
        filename="/home/someone/Downloads/quarterly report.bin",
    )
    run = run_host(app_home, frame(message))

    assert run.replies == [{"status": "accepted", "count": 1}], run.stderr
    target = app_home.download_dir / "quarterly report.bin"  # the browser's chosen name
    wait_until(lambda: target.exists() and sha256_of(target) == digest, 30)
    assert any(r.user_agent == "AriaTrayTest/1.0 (browser)" for r in http_server.requests)
    _assert_secret_nowhere(app_home, COOKIE.partition("=")[2])


def _assert_secret_nowhere(home: AppHome, secret: str) -> None:
    """Once aria2 finished, no file in the app home (log included) holds the cookie value."""

    def content(path: Path) -> bytes:
        # The app's own reader: on Windows, opening a file in the instant it is
        # renamed (an atomic write's temporary, or its target) answers
        # PermissionError, which it waits out; a temporary renamed meanwhile is
        # gone, and its bytes are read from the target (this sweep or the next).
        try:
            return read_bytes(path)
        except FileNotFoundError:
            return b""

    def holding_it() -> list[str]:
        return [
            str(p)
            for p in home.home.rglob("*")
            if p.is_file() and not p.is_socket() and secret.encode() in content(p)
        ]

    try:
        wait_until(lambda: not holding_it(), 15)  # the session is re-saved after completion
    except TimeoutError:
        raise AssertionError(f"the cookie value is still in {holding_it()}") from None
    assert secret not in home.log_text()


def test_the_host_starts_aria_tray_when_it_is_not_running(
    app_home: AppHome, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    url, digest, _ = _protected(http_server, payload_factory)
    assert counts(app_home) == (0, 0)

    message = download_message(url, cookies=COOKIE, referrer=http_server.url("x.html"))
    run = run_host(app_home, frame(message))

    assert run.replies == [{"status": "accepted", "count": 1}], run.stderr
    target = app_home.download_dir / "report.bin"
    wait_until(lambda: target.exists() and sha256_of(target) == digest, 30)
    assert counts(app_home) == (1, 1)

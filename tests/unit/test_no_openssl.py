"""The app's processes hash without OpenSSL (``desktop/__init__.py``, issue 11).

Checked in a fresh interpreter that starts the way the app does (``desktop``
first): libcrypto is never loaded, and every hash the app and its libraries
use gives the standard answer from CPython's own implementations.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import json, sys
import desktop.cli  # what every launch imports first
import filelock, hashlib, hmac, secrets
from aria2_core.paths import AppPaths
from aria2_core.lean_requests import load
load()
print(json.dumps({
    "hashlib_openssl": sys.modules.get("_hashlib") is not None,
    "sha1": hashlib.sha1(b"abc").hexdigest(),
    "sha256": hashlib.sha256(b"abc").hexdigest(),
    "md5": hashlib.md5(b"abc").hexdigest(),
    "hmac": hmac.new(b"key", b"msg", "sha256").hexdigest(),
    "token": len(secrets.token_hex(16)),
}))
"""


def test_a_launch_hashes_without_openssl() -> None:
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", CODE],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    assert json.loads(out.stdout) == {
        "hashlib_openssl": False,
        "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "md5": "900150983cd24fb0d6963f7d28e17f72",
        "hmac": "2d93cbc1be167bcb1637a4a23cbff01a7878f0c50ee833954ea5221bb1b8c628",
        "token": 32,
    }

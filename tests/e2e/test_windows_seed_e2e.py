"""The seed's own acceptance, on the frozen AriaTray.exe, counted the way the seed did.

The problem Aria Tray was written for showed up as ``tasklist | findstr
aria2c`` filling a screen. This test counts ``aria2c.exe`` with Windows'
own process list, machine-wide (not just this test's home: a leak anywhere
counts), through every step of the seed's checklist:

1 after start; 1 after 10 concurrent launches each with a link (all
delivered); 1 after quit and restart; 1 after ``taskkill /F`` of aria2c.exe
(the engine restarts it); 0 within 3 s after ``taskkill /F /PID <app>``
(the Job Object); 0 after ``--quit``.

``tasklist`` is Windows' tool for this. Wine 8.0's tasklist.exe is a stub
that prints nothing at all, so under Wine the same count comes from
``wmic process get name,processid`` (Wine's WMI ``Win32_Process``, which
answers from the same process table). ``make test-dist-windows`` runs this.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from e2e_support import start_primary

from support.app_process import AppHome, wait_until
from support.http_server import FileServer
from support.platforms import only_on

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.windows,
    only_on("win32", "tasklist/taskkill and aria2c.exe"),
    # The seed's acceptance is on the frozen AriaTray.exe (make test-dist-windows).
    pytest.mark.frozen_only,
]

IMAGE = "aria2c.exe"
LAUNCHES = 10


def _decode(raw: bytes) -> str:
    """wmic writes UTF-16 to a pipe; tasklist writes the console code page."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or raw.count(b"\x00") > len(raw) // 4:
        return raw.decode("utf-16", "replace")
    return raw.decode("mbcs" if sys.platform == "win32" else "utf-8", "replace")


def count_aria2c() -> int:
    """How many aria2c.exe run on this machine (this Wine prefix), by Windows' own list."""
    listing = subprocess.run(
        ["tasklist", "/FI", f"IMAGENAME eq {IMAGE}", "/FO", "CSV", "/NH"],
        capture_output=True,
        timeout=30,
    ).stdout
    text = _decode(listing)
    if not text.strip():  # Wine 8.0: tasklist.exe is a stub with no output at all
        listing = subprocess.run(
            ["wmic", "process", "get", "name,processid"], capture_output=True, timeout=30
        ).stdout
        text = _decode(listing)
        assert "processid" in text.lower(), f"wmic gave no process list: {text!r}"
        return sum(1 for line in text.splitlines() if line.split()[:1] == [IMAGE])
    return sum(1 for line in text.splitlines() if line.lower().startswith(f'"{IMAGE}"'))


def taskkill(*args: str) -> None:
    result = subprocess.run(["taskkill", "/F", *args], capture_output=True, timeout=30)
    assert result.returncode == 0, _decode(result.stdout + result.stderr)


@pytest.fixture
def links(http_server: FileServer, tmp_path: Path) -> dict[str, bytes]:
    """Ten small files on a real HTTP server: URL -> content."""
    www = tmp_path / "www"
    www.mkdir(exist_ok=True)
    served = {}
    for i in range(LAUNCHES):
        content = f"seed file {i}\n".encode() * 1000
        (www / f"seed-{i}.bin").write_bytes(content)
        served[http_server.url(f"seed-{i}.bin")] = content
    return served


def test_one_aria2c_exe_through_the_seeds_checklist(
    app_home: AppHome, links: dict[str, bytes]
) -> None:
    assert count_aria2c() == 0, "an aria2c.exe was already running before the test"
    seen: list[str] = []

    def check(step: str, expected: int) -> None:
        found = count_aria2c()
        seen.append(f"{step}: {found}")
        print(f"tasklist count of {IMAGE}: {step}: {found}")
        assert found == expected, seen

    app, status = start_primary(app_home, timeout=60)
    check("after start", 1)

    with ThreadPoolExecutor(LAUNCHES) as pool:
        runs = list(pool.map(lambda url: app_home.run(url, timeout=60), links))
    assert [r.returncode for r in runs] == [0] * LAUNCHES, [r.stderr for r in runs]
    for url, content in links.items():
        target = app_home.download_dir / url.rsplit("/", 1)[1]
        wait_until(lambda t=target, c=content: t.is_file() and t.read_bytes() == c, 60)
    check(f"after {LAUNCHES} concurrent launches, all {LAUNCHES} delivered", 1)

    assert app_home.run("--quit", timeout=60).returncode == 0
    app.wait(30)
    app, status = start_primary(app_home, timeout=60)
    check("after quit and restart", 1)

    old_aria2c = status["aria2c_pid"]
    taskkill("/IM", IMAGE)
    wait_until(
        lambda: (s := app_home.wait_ready(60)) and s["aria2c_pid"] not in (None, old_aria2c),
        60,
    )
    check("after taskkill /F of aria2c.exe (restarted)", 1)

    taskkill("/PID", str(app.pid))
    started = time.monotonic()
    try:
        wait_until(lambda: count_aria2c() == 0, 3.0, interval=0.1)
    finally:
        print(f"aria2c.exe gone {time.monotonic() - started:.1f} s after taskkill of the app")
    check("within 3 s after taskkill /F /PID <app>", 0)
    app.wait(30)

    app, status = start_primary(app_home, timeout=60)
    check("after a restart", 1)
    assert app_home.run("--quit", timeout=60).returncode == 0
    app.wait(30)
    check("after --quit", 0)

"""Windows session end: the queue is saved and aria2c stopped inside Windows' time budget.

At sign-out or shutdown Windows sends every top-level window
WM_QUERYENDSESSION, then WM_ENDSESSION, and ends the process soon after the
latter returns (about 5 s). This test delivers the same two messages, the
same way (``SendMessageTimeout`` to each top-level window of the app), to
the real app running on Qt's ``windows`` platform, with a download in
progress, and checks that aria2's session names it, that aria2c and the app
are gone, and how long WM_ENDSESSION took.

What Wine cannot show: the real sign-out sequence (Explorer, the "this app
is preventing shutdown" screen, the process kill after the timeout), and
console control events (aria2c has no console window). The GitHub
``windows-latest`` job is where those live.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import start_primary

from support.app_process import AppHome, wait_until
from support.http_server import FileServer
from support.platforms import only_on

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.windows,
    only_on("win32", "WM_QUERYENDSESSION/WM_ENDSESSION"),
]

WM_QUERYENDSESSION = 0x0011
WM_ENDSESSION = 0x0016
ENDSESSION_LOGOFF = 0x80000000
SMTO_ABORTIFHUNG = 0x0002
BUDGET_MS = 5000  # what Windows gives a WM_ENDSESSION handler


def top_level_windows(pid: int) -> list[int]:
    from ctypes import wintypes

    user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined]
    found: list[int] = []
    callback_type = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)  # type: ignore[attr-defined]

    def collect(hwnd: int, _: int) -> bool:
        owner = wintypes.DWORD()
        user32.GetWindowThreadProcessId(wintypes.HWND(hwnd), ctypes.byref(owner))
        if owner.value == pid:
            found.append(hwnd)
        return True

    user32.EnumWindows(callback_type(collect), 0)
    return found


def window_exists(hwnd: int) -> bool:
    return bool(ctypes.WinDLL("user32").IsWindow(ctypes.c_void_p(hwnd)))  # type: ignore[attr-defined]


def send(hwnd: int, message: int, wparam: int, lparam: int) -> tuple[bool, int, int]:
    """SendMessageTimeout the way Windows does at session end; (delivered, result, error)."""
    from ctypes import wintypes

    user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined]
    user32.SendMessageTimeoutW.argtypes = [
        wintypes.HWND,
        wintypes.UINT,
        wintypes.WPARAM,
        wintypes.LPARAM,
        wintypes.UINT,
        wintypes.UINT,
        ctypes.POINTER(ctypes.c_size_t),
    ]
    user32.SendMessageTimeoutW.restype = ctypes.c_size_t
    result = ctypes.c_size_t(0)
    ok = user32.SendMessageTimeoutW(
        hwnd, message, wparam, lparam, SMTO_ABORTIFHUNG, BUDGET_MS, ctypes.byref(result)
    )
    return bool(ok), int(result.value), 0 if ok else ctypes.get_last_error()  # type: ignore[attr-defined]


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[FileServer]:
    www = tmp_path / "www"
    www.mkdir()
    (www / "big.bin").write_bytes(b"\x5a" * (8 * 2**20))
    server = FileServer(www, throttle=64 * 1024).start()  # stays active for minutes
    try:
        yield server
    finally:
        server.stop()


def test_session_end_saves_the_queue_and_stops_aria2c_in_time(
    app_home: AppHome, slow_server: FileServer
) -> None:
    app_home.extra_env["QT_QPA_PLATFORM"] = "windows"  # real HWNDs, as on a desktop
    app, status = start_primary(app_home, timeout=60)
    url = slow_server.url("big.bin")
    assert app_home.run(url, timeout=60).returncode == 0
    wait_until(lambda: url in app_home.all_uris(), 30)

    windows = top_level_windows(app.pid)
    assert windows, "the app has no top-level window to receive the session end"
    answers = [send(hwnd, WM_QUERYENDSESSION, 0, ENDSESSION_LOGOFF) for hwnd in windows]
    assert all(ok and result for ok, result, _ in answers), answers  # nobody vetoes
    started = time.monotonic()
    ends = []
    for hwnd in windows:  # as Windows does, until the process has ended
        sent = time.monotonic()
        ok, _, error = send(hwnd, WM_ENDSESSION, 1, ENDSESSION_LOGOFF)
        ends.append((ok, error, not window_exists(hwnd) or app.poll() is not None))
        print(f"WM_ENDSESSION to window {hwnd:#x}: {time.monotonic() - sent:.2f} s")
        if app.poll() is not None:
            break
    took = time.monotonic() - started
    print(f"WM_ENDSESSION handled in {took:.2f} s (Windows allows about 5 s)")
    # SendMessageTimeout gives up after BUDGET_MS: every window answered in time,
    # except those that went away with the app while being asked.
    assert all(ok or gone for ok, _, gone in ends), ends

    app.wait(30)
    assert app_home.aria2c_processes() == []
    assert url in app_home.session_text()
    assert "the session is ending" in app_home.log_text()
    assert status["aria2c_pid"] not in {p.pid for p in app_home.aria2c_processes()}

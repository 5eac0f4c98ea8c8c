"""Fixtures shared by every test layer.

Qt runs offscreen unless the caller already chose a platform (the tray tests
export ``QT_QPA_PLATFORM=xcb`` with a ``DISPLAY``), and that must be decided
before anything creates a QApplication, hence the top of this file.

The heavy fixtures start real things: an HTTP file server and an aria2c.
Each test gets its own, and each is torn down by PID in the fixture, whatever
the test did. A session-wide safety net then fails the run if any aria2c
that was started under pytest's temp root is still alive, and kills it:
a leaked daemon is a bug in a test or a fixture, never noise.
"""

from __future__ import annotations

import faulthandler
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# ``support`` lives next to this file; make it importable as a top-level package
# no matter how pytest was started (pytest, python -m pytest, an IDE).
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
import pytest

from support.app_world import AppWorld
from support.aria2_daemon import Aria2Daemon
from support.http_server import (
    FileServer,
    Payload,
    PayloadFactory,
    make_payload,
)
from support.platforms import leave_out_missing_features, report_left_out
from support.run_trace import register as register_run_trace


@pytest.fixture(scope="session")
def qapp(qapp: Any) -> Any:
    """pytest-qt's QApplication, collecting cyclic garbage on this (the GUI) thread only.

    As the app does (``desktop.heap``): otherwise a worker of one test may
    collect a widget another test dropped, and deadlock with the GUI thread.
    """
    from desktop.heap import collect_on_this_thread_only

    collect_on_this_thread_only(qapp)
    return qapp


@pytest.fixture(autouse=True)
def _collect_due_garbage_on_the_gui_thread() -> Iterator[None]:
    """Between tests too: a test that never spins the event loop leaves its garbage."""
    yield
    from desktop.heap import collect_due

    collect_due()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[FileServer]:
    """A real HTTP/1.1 server with Range support, serving ``tmp_path / "www"``."""
    server = FileServer(tmp_path / "www").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def payload_factory(http_server: FileServer) -> PayloadFactory:
    """Make ``payload_factory(name, size)`` write random bytes the server can serve."""

    def make(name: str = "payload.bin", size: int = 256 * 1024) -> Payload:
        path, digest = make_payload(http_server.root, name, size)
        return Payload(name, path, size, digest, http_server.url(name))

    return make


@pytest.fixture
def aria2_daemon(tmp_path: Path) -> Iterator[Aria2Daemon]:
    """A real aria2c on a free loopback port, ready for authenticated RPC."""
    daemon = Aria2Daemon(tmp_path / "aria2")
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


def _leftover_aria2c(root: Path) -> list[psutil.Process]:
    """Live aria2c processes whose command line points below ``root``."""
    needle = str(root)
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        try:
            info = proc.info
            if info["status"] == psutil.STATUS_ZOMBIE:
                continue  # some sandboxes never reap; a zombie holds nothing
            cmdline = info["cmdline"] or []
            names = [info["name"] or "", os.path.basename(cmdline[0]) if cmdline else ""]
            if not any(name.startswith("aria2c") for name in names):
                continue
            if any(needle in arg for arg in cmdline):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.fixture(scope="session", autouse=True)
def _no_leaked_aria2c(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fail the session if a test left an aria2c running, and kill the leftovers."""
    root = tmp_path_factory.getbasetemp()
    yield
    leaked = _leftover_aria2c(root)
    if not leaked:
        return
    described = []
    for proc in leaked:
        try:
            described.append(f"pid {proc.pid}: {' '.join(proc.cmdline())}")
            proc.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(leaked, timeout=5)
    if described:
        pytest.fail("aria2c processes outlived their tests:\n" + "\n".join(described))


@pytest.fixture
def world(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppWorld]:
    """Real controllers and preferences in a private app home (``support.app_world``).

    The user's own environment overrides and XDG config (start at login)
    must not leak in, nor our writes leak out.
    """
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    for name in ("ARIA_TRAY_DOWNLOAD_DIR", "ARIA_TRAY_ARIA2C", "ARIA_TRAY_RPC_PORT"):
        monkeypatch.delenv(name, raising=False)
    w = AppWorld(qtbot, tmp_path / "downloads")
    try:
        yield w
    finally:
        w.close()


def pytest_configure(config: pytest.Config) -> None:
    register_run_trace(config, _timeout_of)  # when a watcher outside asked for one


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    leave_out_missing_features(config, items)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    report_left_out(terminalreporter, config)


_backstop_out: Any = None  # the real stderr, for a dump while the test's output is captured


def _timeout_of(item: pytest.Item) -> float:
    """The test's pytest-timeout limit in seconds (its marker, else the ini's); 0 is none."""
    marker = item.get_closest_marker("timeout")
    if marker is not None:
        value = marker.args[0] if marker.args else marker.kwargs.get("timeout", 0)
    else:
        value = item.config.getini("timeout") or 0
    return float(value or 0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A backstop for pytest-timeout: a hang it cannot end ends the run, with every stack.

    pytest-timeout's alarm runs in the main thread, so a main thread blocked
    inside C++ (a deadlock on a Qt lock) never sees it, and the run stalls
    until CI's own limit, silently. faulthandler's watchdog is a C thread:
    at twice the test's limit it prints every thread's stack and exits.
    """
    global _backstop_out
    if _backstop_out is None:  # between tests fd 2 is the real stderr: keep a copy of it
        _backstop_out = os.fdopen(os.dup(2), "w")
    limit = _timeout_of(item)
    if limit > 0:
        faulthandler.dump_traceback_later(limit * 2 + 60, exit=True, file=_backstop_out)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()

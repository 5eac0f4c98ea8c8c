"""Bookkeeping faults never stop the engine's state machine, and quitting always ends.

Item 11 of issue 8: an unusable ownership lock (a folder where the lock file
belongs) used to abort ``_on_finished``, so a killed aria2c was never
restarted, ``--quit`` failed after 15 s and SIGTERM was ignored. And a second
SIGTERM/SIGINT while a slow shutdown runs must escalate to a forceful one,
a quit past its deadline is forced, and a stuck GUI thread is ended by the
watchdog thread. (The ownership record's lock and fsyncs no longer run on
the GUI thread at all: ``tests/integration/test_engine.py`` pins that.)
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from e2e_support import aria2c_pids, counts, start_primary

from aria2_core.binary import find_aria2c
from aria2_core.paths import AppPaths
from support.app_process import AppHome, is_frozen_target, wait_until
from support.programs import freeze, kill_hard, thaw

pytestmark = pytest.mark.e2e
posix_signals = pytest.mark.skipif(
    os.name != "posix",
    reason="Wine limit: GenerateConsoleCtrlEvent delivers no CTRL_C/CTRL_BREAK "
    "(Windows' SIGINT/SIGBREAK) to another process",
)


def _break_ownership_lock(home: AppHome) -> None:
    """A folder where the ownership record's lock file should be."""
    lock = AppPaths.for_home(home.home).ownership_lock
    lock.unlink(missing_ok=True)
    lock.mkdir()


def test_unusable_ownership_lock_neither_stops_restarts_nor_quit(app_home: AppHome) -> None:
    primary, status = start_primary(app_home)
    _break_ownership_lock(app_home)
    old = status["aria2c_pid"]

    kill_hard(old)

    try:
        wait_until(lambda: aria2c_pids(app_home) - {old}, 20)
        new_status = app_home.wait_ready(20)
    except TimeoutError:
        raise AssertionError(f"aria2c was not restarted.\nLog:\n{app_home.log_text()}") from None
    assert new_status["aria2c_pid"] != old
    result = app_home.run("--quit", timeout=30)
    assert result.returncode == 0, result.stderr + app_home.log_text()
    assert primary.wait(10) == 0
    assert counts(app_home) == (0, 0)


@posix_signals
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_second_signal_quits_forcefully(app_home: AppHome, signum: int) -> None:
    primary, status = start_primary(app_home)
    aria = status["aria2c_pid"]
    freeze(aria)  # a hung aria2c: the orderly stop waits for RPC timeouts
    try:
        primary.send_signal(signum)
        wait_until(lambda: "quitting (signal" in app_home.log_text(), 10)
        primary.send_signal(signum)
        try:
            code = primary.wait(30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no exit.\nLog:\n{app_home.log_text()}") from None
    finally:
        for pid in aria2c_pids(app_home):
            thaw(pid)
    assert code == 128 + signum, app_home.log_text()
    assert "quitting forcefully" in app_home.log_text()
    wait_until(lambda: not app_home.aria2c_processes(), 10)
    assert counts(app_home) == (0, 0)


def test_a_quit_that_overruns_its_deadline_is_forced(app_home: AppHome) -> None:
    """The orderly quit waits on a hung aria2c's RPC; past the deadline it is forced.

    The deadline is shortened to 1 s for the test (``ARIA_TRAY_QUIT_DEADLINE_MS``),
    below the 2 s the save RPC to a stopped aria2c takes to time out.
    """
    app_home.extra_env["ARIA_TRAY_QUIT_DEADLINE_MS"] = "1000"
    primary, status = start_primary(app_home)
    freeze(status["aria2c_pid"])
    try:
        result = app_home.run("--quit", timeout=30)
        code = primary.wait(30)
    finally:
        for pid in aria2c_pids(app_home):
            thaw(pid)
    assert result.returncode == 0, result.stderr
    assert code == 1, app_home.log_text()  # forced, not the orderly 0
    assert "quitting forcefully (still quitting after 1000 ms)" in app_home.log_text()
    wait_until(lambda: not app_home.aria2c_processes(), 10)
    assert counts(app_home) == (0, 0)


# Loaded by the app under test as ``sitecustomize`` (PYTHONPATH): the stand-in
# for a GUI thread hung in a system call. Nothing in the app blocks the GUI
# thread for long by itself any more (the ownership record's lock, which did,
# runs on its own worker), so the test makes the hang: the GUI thread's first
# SIGTERM to another process (the orderly stop ending aria2c's tree) never
# returns. It sleeps with the GIL released, as a hung syscall does, so every
# other thread runs on; the event loop, and with it the quit deadline and a
# forced quit, never does again.
FREEZE_GUI_THREAD = """
import os, signal, sys, threading, time
_gui = threading.get_ident()
_frozen = os.environ["ARIA_TRAY_TEST_FROZEN"]

def _hang(event, args):
    if (
        event == "os.kill"
        and threading.get_ident() == _gui
        and args[1] == signal.SIGTERM
        and args[0] != os.getpid()
    ):
        with open(_frozen, "w") as note:
            note.write(str(args[0]))
        while True:
            time.sleep(60)

sys.addaudithook(_hang)
"""


@posix_signals
@pytest.mark.skipif(is_frozen_target(), reason="the hang is injected through sitecustomize")
def test_a_stuck_gui_thread_cannot_keep_the_app_alive(app_home: AppHome, tmp_path: Path) -> None:
    """The watchdog thread ends the process when even the forced quit cannot run.

    The GUI thread hangs as the orderly stop signals aria2c's tree (a wrapper
    script, so the engine signals aria2c itself, below the wrapper), outside
    Qt's event loop: the quit deadline cannot fire, only the watchdog's 13 s.
    """
    script = tmp_path / "wrapper.sh"
    script.write_text(f'#!/bin/sh\n"{find_aria2c()}" "$@"\n')
    script.chmod(0o755)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FREEZE_GUI_THREAD)
    frozen = tmp_path / "frozen"
    app_home.extra_env.update(
        {
            "ARIA_TRAY_ARIA2C": str(script),
            "ARIA_TRAY_TEST_FROZEN": str(frozen),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])),
        }
    )
    primary, status = start_primary(app_home, timeout=30)
    primary.send_signal(signal.SIGTERM)
    try:
        code = primary.wait(40)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the app outlived its watchdog.\n{app_home.log_text()}") from None
    assert frozen.read_text() == str(status["aria2c_pid"])  # the GUI thread hung there
    assert code == 1
    assert "shutdown did not finish within 13 s; exiting at once" in app_home.log_text()
    assert "quitting forcefully" not in app_home.log_text()  # the event loop never ran again
    wait_until(lambda: not app_home.aria2c_processes(), 10)
    assert counts(app_home) == (0, 0)

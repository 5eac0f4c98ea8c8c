"""``ARIA_TRAY_ARIA2C`` naming a wrapper script that does not ``exec`` aria2c.

Item 10 of issue 8: readiness watched the wrapper's pid, never saw it listen,
and every retry left the real aria2c running (10 of them). Now a listener
anywhere in our process's tree counts, and stopping ends the whole tree.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest
from e2e_support import start_primary

from aria2_core.binary import find_aria2c
from support.app_process import AppHome, wait_until
from support.programs import WINDOWS, kill_hard
from support.wine import UNDER_WINE

pytestmark = pytest.mark.e2e


def real_aria2c(home: AppHome) -> list[psutil.Process]:
    """This home's aria2c binaries proper (the wrapper shell also carries --conf-path)."""
    found = []
    for proc in home.aria2c_processes():
        try:
            argv = proc.cmdline()  # empty once the process is a zombie
            if argv and os.path.basename(argv[0]).startswith("aria2c"):
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.fixture
def wrapped(app_home: AppHome, tmp_path: Path) -> AppHome:
    # No exec: aria2c is our grandchild, under sh (or cmd.exe, which runs any .bat).
    if WINDOWS:
        script = tmp_path / "wrapper.bat"
        script.write_text(f'@"{find_aria2c()}" %*\r\n')
    else:
        script = tmp_path / "wrapper.sh"
        script.write_text(f'#!/bin/sh\n"{find_aria2c()}" "$@"\n')
        script.chmod(0o755)
    app_home.extra_env["ARIA_TRAY_ARIA2C"] = str(script)
    return app_home


def test_a_wrapper_that_does_not_exec_gives_one_aria2c(wrapped: AppHome) -> None:
    primary, status = start_primary(wrapped, timeout=30)
    aria = real_aria2c(wrapped)
    assert len(aria) == 1, wrapped.log_text()
    if not UNDER_WINE:  # there socket owners are unknown: the wrapper counts as listening
        assert aria[0].pid == status["aria2c_pid"], wrapped.log_text()
    paused = "http://127.0.0.1:9/wrapped-paused.bin"
    with wrapped.rpc() as client:
        client.add_uri([paused], {"pause": "true"})

    result = wrapped.run("--quit", timeout=30)

    assert result.returncode == 0, result.stderr
    assert primary.wait(10) == 0
    wait_until(lambda: not wrapped.aria2c_processes(), 10)
    assert paused in wrapped.session_text()  # the real aria2c was asked to stop, and saved


def test_a_killed_wrapper_does_not_leave_its_aria2c(wrapped: AppHome) -> None:
    primary, _ = start_primary(wrapped, timeout=30)
    [aria] = real_aria2c(wrapped)
    first = aria.pid
    wrapper = aria.ppid()
    assert wrapper != primary.pid  # the shell sits between us and aria2c

    kill_hard(wrapper)

    try:
        wait_until(lambda: not psutil.pid_exists(first) or first not in _pids(wrapped), 15)
    except TimeoutError:
        log = wrapped.log_text()
        raise AssertionError(f"aria2c {first} outlived its wrapper:\n{log}") from None
    new = wrapped.wait_ready(30)
    assert new["aria2c_pid"] != first
    again = [p.pid for p in real_aria2c(wrapped)]
    assert len(again) == 1 and first not in again
    if not UNDER_WINE:
        assert again == [new["aria2c_pid"]]


def _pids(home: AppHome) -> set[int]:
    return {p.pid for p in real_aria2c(home)}

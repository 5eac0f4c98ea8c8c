"""The blocking stop at the very end never waits for a slow helper run or RPC.

``Controller.stop_now`` runs when the event loop is ending (``aboutToQuit``,
a forced quit, Windows' session end). Before, it waited for the option
worker, so a running ``aria2c --help=#all`` or dry run of a hung binary
added its whole timeout (10 s each) to the stop. Now the stop kills that
run; and an RPC call in flight to a frozen aria2c ends with aria2c's kill.

The helper timeouts are raised to an hour here so that a stop which still
waits for them hangs (pytest-timeout ends the test) instead of passing
late: the bound comes from the kill, not from the timeout.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest

from aria2_core import option_catalog, option_dryrun
from support.app_world import WAIT_MS, AppWorld

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script stands for aria2c"),
    pytest.mark.timeout(60),
]

HOUR_S = 3600.0


@pytest.fixture
def hung_binary(tmp_path: Path) -> Iterator[Path]:
    """An "aria2c" that writes its pid and then never answers (exec: the pid is the sleep)."""
    script = tmp_path / "hung-aria2c"
    pid_file = tmp_path / "hung.pid"
    script.write_text(f'#!/bin/sh\necho $$ > "{pid_file}"\nexec sleep 3600\n')
    script.chmod(0o755)
    try:
        yield script
    finally:  # whatever the outcome, no sleep is left behind
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


def running_helper(qtbot: Any, binary: Path) -> psutil.Process:
    pid_file = binary.with_name("hung.pid")
    qtbot.waitUntil(
        lambda: pid_file.exists() and bool(pid_file.read_text().strip()), timeout=WAIT_MS
    )
    proc = psutil.Process(int(pid_file.read_text()))
    qtbot.waitUntil(lambda: proc.name() == "sleep", timeout=WAIT_MS)
    return proc


def gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def world(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppWorld]:
    for name in ("ARIA_TRAY_DOWNLOAD_DIR", "ARIA_TRAY_ARIA2C", "ARIA_TRAY_RPC_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(option_catalog, "HELP_TIMEOUT_S", HOUR_S)
    monkeypatch.setattr(option_dryrun, "DRY_RUN_TIMEOUT_S", HOUR_S)
    w = AppWorld(qtbot, tmp_path / "dl")
    try:
        yield w
    finally:
        w.close()


def test_stop_now_kills_a_running_help_read(qtbot: Any, world: AppWorld, hung_binary: Path) -> None:
    c = world.controller()
    aria2c = psutil.Process(c.engine.pid)
    errors: list[BaseException] = []
    c.fetch_known_options(str(hung_binary), on_done=lambda _: None, on_error=errors.append)
    helper = running_helper(qtbot, hung_binary)

    c.stop_now()  # before: waited for the help read's timeout (10 s; here an hour)

    assert gone(helper)
    assert gone(aria2c)


def test_stop_now_kills_a_running_dry_run(qtbot: Any, world: AppWorld, hung_binary: Path) -> None:
    c = world.controller()
    aria2c = psutil.Process(c.engine.pid)
    results: list[list[str]] = []
    new = replace(c.engine_settings(), binary_override=str(hung_binary))
    assert c.apply_engine_settings(new, results.append)  # another binary: a restart, checked first
    helper = running_helper(qtbot, hung_binary)

    c.stop_now()  # before: waited for the dry run's timeout (10 s; here an hour)

    assert gone(helper)
    assert gone(aria2c)
    assert c.engine.pid is None or c.engine.pid == aria2c.pid  # the hung binary never ran as engine


def test_stop_now_ends_an_rpc_call_in_flight_to_a_frozen_aria2c(
    qtbot: Any, world: AppWorld
) -> None:
    c = world.controller()
    aria2c = psutil.Process(c.engine.pid)
    client = c.engine.client
    assert client is not None
    aria2c.suspend()  # SIGSTOP: the call below waits for an answer that never comes
    try:
        outcome: list[object] = []
        c.tasks.run(
            lambda: client.call("aria2.getVersion", timeout=HOUR_S),
            on_done=outcome.append,
            on_error=outcome.append,
        )
        c.stop_now()  # the kill of aria2c ends the call: no wait for its timeout
    finally:
        if not gone(aria2c):
            aria2c.resume()
    assert gone(aria2c)

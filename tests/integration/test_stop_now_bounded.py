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

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest

from aria2_core import option_catalog, option_dryrun
from support.app_world import WAIT_MS, AppWorld
from support.programs import freeze, kill_hard, script_program, thaw

pytestmark = [
    pytest.mark.timeout(60),
]

HOUR_S = 3600.0


#: A stand-in "aria2c" that writes its pid (atomically) and then never answers.
HUNG_CODE = """\
import os, sys, time
pid_file = sys.argv[0] + ".pid"
with open(pid_file + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.replace(pid_file + ".tmp", pid_file)
time.sleep(3600)
"""


@pytest.fixture
def hung_binary(tmp_path: Path) -> Iterator[Path]:
    """That stand-in as a program (Windows: a .bat whose python.exe is a child of cmd.exe)."""
    program = script_program(tmp_path / "bin", "hung-aria2c", HUNG_CODE)
    try:
        yield program
    finally:  # whatever the outcome, no sleeper is left behind
        for pid_file in program.parent.glob("*.pid"):
            try:
                kill_hard(int(pid_file.read_text()))
            except (psutil.NoSuchProcess, ValueError):
                pass


def running_helper(qtbot: Any, binary: Path) -> psutil.Process:
    """The stand-in's python process, once it is running (written its pid)."""
    qtbot.waitUntil(lambda: any(binary.parent.glob("*.pid")), timeout=WAIT_MS)
    (pid_file,) = binary.parent.glob("*.pid")
    return psutil.Process(int(pid_file.read_text()))


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
    freeze(aria2c.pid)  # hung: the call below waits for an answer that never comes
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
            thaw(aria2c.pid)
    assert gone(aria2c)


def test_no_helper_run_starts_after_stop_now(
    qtbot: Any, world: AppWorld, hung_binary: Path
) -> None:
    """A settings check queued behind the stop must not run the binary when the app is gone.

    Such a run outlives the stop: it may write its option cache into a home
    that is already deleted (recreating it), or be left running for 10 s.
    """
    c = world.controller()
    c.stop_now()
    errors: list[BaseException] = []
    done: list[object] = []
    c.fetch_known_options(str(hung_binary), on_done=done.append, on_error=errors.append)
    qtbot.wait(500)  # long enough for a run to have started and written its pid
    assert list(hung_binary.parent.glob("*.pid")) == []
    assert done == [] and errors == []

"""Every way of quitting ends aria2c, saves the session and exits 0.

Acceptance items: ``--quit``, SIGTERM and SIGINT each leave no aria2c within
5 s, the primary exits 0 and a paused download is in the saved session; and
five start/ready/quit cycles never see two aria2c processes at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from e2e_support import AriaCountSampler, counts, start_primary

from support.app_process import AppHome, wait_until
from support.programs import freeze, thaw

pytestmark = pytest.mark.e2e

ARIA2C_GONE_S = 5.0
RESTART_CYCLES = 5


# Windows has no SIGTERM/SIGINT for a windowed process; its other polite stop, the end of
# the session, is tests/e2e/test_windows_session_end_e2e.py.
@pytest.mark.parametrize("how", ["--quit"] + (["SIGTERM", "SIGINT"] if os.name == "posix" else []))
def test_quit_stops_aria2c_and_saves_the_session(app_home: AppHome, how: str) -> None:
    primary, _ = start_primary(app_home)
    # A paused download: it stays in aria2's queue, so it must be in the session.
    paused_uri = f"http://127.0.0.1:9/paused-{how.strip('-').lower()}.bin"
    with app_home.rpc() as client:
        gid = client.add_uri([paused_uri], {"pause": "true"})
        assert client.tell_status(gid, ["status"])["status"] == "paused"

    if how == "--quit":
        result = app_home.run("--quit")
        assert result.returncode == 0, result.stderr
    else:
        primary.send_signal(getattr(signal, how))

    wait_until(lambda: not app_home.aria2c_processes(), ARIA2C_GONE_S)
    assert primary.wait(15) == 0, primary.stderr.read() if primary.stderr else ""
    assert counts(app_home) == (0, 0)
    session = app_home.session_text()
    assert paused_uri in session, session
    assert "pause=true" in session, session


def test_restart_cycles_never_overlap_two_aria2c(app_home: AppHome) -> None:
    sampler = AriaCountSampler(app_home)
    sampler.start()
    aria_pids: list[int] = []
    try:
        for _ in range(RESTART_CYCLES):
            primary, status = start_primary(app_home)
            aria_pids.append(status["aria2c_pid"])
            result = app_home.run("--quit")
            assert result.returncode == 0, result.stderr
            assert primary.wait(15) == 0
            # --quit returns once the primary is gone, and the primary goes after aria2c.
            assert not app_home.aria2c_processes()
    finally:
        sampler.stop()

    assert sampler.max_seen == 1, f"saw {sampler.max_seen} aria2c at once"
    assert len(set(aria_pids)) == RESTART_CYCLES  # a fresh aria2c each time
    assert counts(app_home) == (0, 0)


CONTROL_TRIALS = 6


@pytest.mark.parametrize("command", ["--quit", "--status"])
def test_a_control_command_waits_for_a_primary_that_is_still_starting(
    app_home: AppHome, command: str
) -> None:
    """Between taking the lock and opening its doorbell, a primary is running.

    The chaos run (seed 1563250798) sent ``--quit`` in that moment: it said
    "not running", and the app came up and stayed. The primary is frozen right
    after it takes the lock, so the command surely finds no doorbell; it must
    wait for it (the lock holder is alive), not report a running app as gone.
    """
    lock = app_home.home / "instance.lock"
    for _trial in range(CONTROL_TRIALS):
        app = app_home.launch()

        def holds_lock(pid: int = app.pid) -> bool:
            try:
                return lock.read_bytes().split(b"\n", 1)[0] == str(pid).encode()
            except OSError:
                return False

        wait_until(holds_lock, 30, interval=0.002)
        freeze(app.pid)
        if f" {app.pid} INFO    aria_tray.ipc: listening" not in app_home.log_text():
            break
        thaw(app.pid)  # its doorbell was already open: not the moment under test
        app_home.run("--quit", timeout=60)
        assert app.wait(30) == 0
    else:
        pytest.fail(f"never froze the primary before its doorbell in {CONTROL_TRIALS} trials")

    control = app_home.launch(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)  # the command meets the frozen, doorbell-less primary
    finally:
        thaw(app.pid)
    out, err = control.communicate(timeout=60)
    assert control.returncode == 0, err.decode(errors="replace")
    if command == "--status":
        assert json.loads(out)["app_pid"] == app.pid
        app_home.run("--quit", timeout=60)
    assert app.wait(30) == 0
    assert counts(app_home) == (0, 0)

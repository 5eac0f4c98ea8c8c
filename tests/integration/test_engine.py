"""The engine against a real aria2c, driven in-process with pytest-qt.

Crash and failure paths use real executables: the real aria2c killed outright
(SIGKILL, TerminateProcess), aria2c given an option it rejects, and a tiny
program that exits 1 the way aria2c does when it cannot bind its RPC port.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from aria2_core import ownership
from aria2_core.binary import find_aria2c
from aria2_core.config import EngineSettings
from aria2_core.ownership import read_record
from aria2_core.paths import AppPaths
from aria2_core.process_tree import wait_gone
from desktop import engine_record
from desktop.engine import MAX_CRASHES_IN_WINDOW, Engine, EngineState
from desktop.tasks import TaskRunner
from support.programs import WINDOWS, freeze, kill_hard, script_program


@pytest.fixture
def paths() -> Iterator[AppPaths]:
    home = Path(tempfile.mkdtemp(prefix="at-eng-"))
    p = AppPaths.for_home(home)
    p.ensure()
    yield p
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def make_engine(qtbot, paths: AppPaths) -> Iterator:  # type: ignore[no-untyped-def]
    engines: list[tuple[Engine, TaskRunner]] = []

    def make(settings: EngineSettings | None = None) -> Engine:
        tasks = TaskRunner()
        settings = settings or EngineSettings(download_dir=paths.home / "dl")
        engine = Engine(paths, settings, tasks)
        engines.append((engine, tasks))
        return engine

    yield make
    for engine, tasks in engines:
        engine.stop_now()
        tasks.shutdown()
    # The session-wide leak net only sees pytest's temp root, not these homes.
    leaked = [p for p in _aria2c_of(paths) if not wait_gone(p, 5.0)]
    for proc in leaked:
        proc.kill()
    assert not leaked, f"aria2c outlived its engine: {[p.pid for p in leaked]}"


def _aria2c_of(paths: AppPaths) -> list[psutil.Process]:
    """Live aria2c processes started with this home's conf file."""
    needle = f"--conf-path={paths.conf_file}"
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if needle in (proc.info["cmdline"] or []) and "setpriv" not in proc.info["cmdline"][0]:
            found.append(proc)
    return found


def _wait_state(qtbot, engine: Engine, state: EngineState, timeout: int = 15_000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: engine.state == state, timeout=timeout)


def test_ready_means_our_process_answers_rpc(qtbot, make_engine, paths: AppPaths) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine()
    with qtbot.waitSignal(engine.ready, timeout=15_000):
        engine.start()
    assert engine.state == EngineState.READY
    proc = psutil.Process(engine.pid)
    assert f"--conf-path={paths.conf_file}" in proc.cmdline()
    assert engine.flush_record(5.0)  # the record is written on its own worker
    record = read_record(paths)
    assert record is not None and record.pid == engine.pid
    assert record.create_time == pytest.approx(proc.create_time(), abs=0.05)
    assert engine.client is not None
    assert "version" in engine.client.get_version()


def test_stop_saves_session_kills_and_clears_record(qtbot, make_engine, paths: AppPaths) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine()
    with qtbot.waitSignal(engine.ready, timeout=15_000):
        engine.start()
    pid = engine.pid
    engine.client.add_uri(["http://127.0.0.1:9/paused.bin"], {"pause": "true"})
    stopped: list[bool] = []
    engine.stop(lambda: stopped.append(True))
    qtbot.waitUntil(lambda: stopped == [True], timeout=10_000)
    assert engine.state == EngineState.STOPPED
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert read_record(paths) is None  # a stop is done only once its clear has run
    assert "http://127.0.0.1:9/paused.bin" in paths.session_file.read_text()
    engine.stop(lambda: stopped.append(True))  # idempotent: answers at once
    assert stopped == [True, True]


def test_killed_aria2c_is_restarted_with_its_session(qtbot, make_engine, paths: AppPaths) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine()
    with qtbot.waitSignal(engine.ready, timeout=15_000):
        engine.start()
    engine.client.add_uri(["http://127.0.0.1:9/keep.bin"], {"pause": "true"})
    engine.client.save_session()
    first = engine.pid
    with qtbot.waitSignal(engine.ready, timeout=15_000):
        kill_hard(first)
    assert engine.pid != first
    uris = [
        u["uri"]
        for t in engine.client.tell_waiting(0, 100, ["files"])
        for f in t["files"]
        for u in f["uris"]
    ]
    assert "http://127.0.0.1:9/keep.bin" in uris


def test_busy_preferred_port_is_retried_elsewhere(qtbot, make_engine) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        engine = make_engine(EngineSettings(preferred_port=busy))
        with qtbot.waitSignal(engine.ready, timeout=20_000):
            engine.start()
        assert engine.port != busy


def test_rejected_option_fails_at_once_with_arias_message(qtbot, make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(EngineSettings(extra_options={"max-concurrent-downloads": "abc"}))
    engine.start()
    _wait_state(qtbot, engine, EngineState.FAILED)
    assert "rejected its options" in engine.error
    assert "Bad number abc" in engine.error
    assert "Usage" not in engine.error


def test_missing_binary_is_a_clear_failure(qtbot, make_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(EngineSettings(binary_override=str(tmp_path / "no" / "aria2c")))
    engine.start()
    _wait_state(qtbot, engine, EngineState.FAILED)
    assert "does not exist" in engine.error


def test_repeated_failures_stop_retrying(qtbot, make_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An aria2c that always exits 1 is retried a bounded number of times, then given up."""
    counter = tmp_path / "launches"
    script = script_program(
        tmp_path,
        "aria2c",
        f"with open({str(counter)!r}, 'a') as f: f.write('launch\\n')\n"
        "print('Failed to setup RPC server')\nraise SystemExit(1)\n",
    )
    engine = make_engine(EngineSettings(binary_override=str(script)))
    engine.start()
    _wait_state(qtbot, engine, EngineState.FAILED, timeout=30_000)
    launches = len(counter.read_text().splitlines())
    qtbot.wait(1500)  # nothing more happens once it has given up
    assert len(counter.read_text().splitlines()) == launches
    assert launches <= 15
    assert "not restarting" in engine.error


def test_settings_applied_while_starting_never_give_two_aria2c(  # type: ignore[no-untyped-def]
    qtbot, make_engine, paths: AppPaths
) -> None:
    """Item 7 of issue 8: start(), then an apply's stop+restart before the first launch."""
    engine = make_engine()
    engine.start()  # queues an orphan check; the launch follows it
    restarted: list[bool] = []

    def start_again() -> None:
        restarted.append(True)
        engine.restart()

    engine.stop(start_again)  # what Controller._restart_engine does
    qtbot.waitUntil(lambda: restarted == [True], timeout=10_000)
    _wait_state(qtbot, engine, EngineState.READY)
    most = 0
    for _ in range(20):  # a stale second launch would show up within this second
        most = max(most, len(_aria2c_of(paths)))
        qtbot.wait(50)
    assert most == 1
    assert [p.pid for p in _aria2c_of(paths)] == [engine.pid]


def test_a_hung_aria2c_is_reported_as_hung_not_as_code_9(  # type: ignore[no-untyped-def]
    qtbot, make_engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Item 12 of issue 8: a stopped (hung) aria2c, killed after the grace, is told as such."""
    caplog.set_level(logging.INFO, logger="aria_tray.engine")
    engine = make_engine()
    with qtbot.waitSignal(engine.ready, timeout=15_000):
        engine.start()
    pid = engine.pid
    freeze(pid)  # a hung aria2c
    stopped: list[bool] = []
    engine.stop(lambda: stopped.append(True))
    qtbot.waitUntil(lambda: stopped == [True], timeout=20_000)
    said = [r.getMessage() for r in caplog.records if r.name == "aria_tray.engine"]
    ends = [m for m in said if m.startswith("aria2c ") and " in state " in m]
    # POSIX: SIGTERM, then the kill after the grace. Windows has no gentle stop for a
    # console program: a failed RPC shutdown is followed by the kill at once.
    why = "did not answer its RPC shutdown request" if WINDOWS else "did not exit within 5 s"
    assert ends and why in ends[-1] and "was killed" in ends[-1], said
    assert not any("code 9" in m for m in said), said
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


# Another process holding the ownership record's file lock: a --cleanup or a
# launch's orphan check at work, or a slow disk. Killing it releases the lock.
HOLD_LOCK = """
import sys, time
from filelock import FileLock
with FileLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


class LockHolder:
    """Holds the ownership lock from another process until ``release()`` or the safety timer.

    ``let_go_early`` says the safety timer had to release it: whatever the
    test waited for needed the lock, i.e. the GUI thread waited for it.
    """

    def __init__(self, paths: AppPaths, safety_s: float = 20.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(paths.ownership_lock)], stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == b"held"
        self.let_go_early = False
        self._safety = threading.Timer(safety_s, self._time_is_up)
        self._safety.start()

    def _time_is_up(self) -> None:
        self.let_go_early = True
        self.release()

    def release(self) -> None:
        self._safety.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _record_on_disk(paths: AppPaths) -> int | None:
    """The pid the record file names, read without its lock (the test holds that)."""
    try:
        return int(json.loads(paths.ownership_file.read_text(encoding="utf-8"))["pid"])
    except FileNotFoundError:
        return None


@pytest.fixture
def slow_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy lock is waited for long enough to see who waits (not the GUI thread)."""
    monkeypatch.setattr(ownership, "LOCK_TIMEOUT_S", 60.0)
    monkeypatch.setattr(engine_record, "BOOKKEEPING_WAIT_MS", 60_000)


def test_a_busy_ownership_lock_holds_up_neither_the_gui_thread_nor_a_restart(  # type: ignore[no-untyped-def]
    qtbot, make_engine, paths: AppPaths, slow_lock: None
) -> None:
    """The record's lock and fsyncs run on the record worker, in order (issue 8, "Also").

    Before, the clear of the killed aria2c and the record of the new one ran
    on the GUI thread, each waiting for the lock: no restart (no event loop
    at all) until the lock was free.
    """
    engine = make_engine()
    with qtbot.waitSignal(engine.ready, timeout=15_000):
        engine.start()
    assert engine.flush_record(5.0)
    first = engine.pid
    assert _record_on_disk(paths) == first
    holder = LockHolder(paths)
    try:
        with qtbot.waitSignal(engine.ready, timeout=30_000):
            kill_hard(first)
        assert not holder.let_go_early, "the restart waited for the ownership lock"
        second = engine.pid
        assert second not in (None, first)
        assert _record_on_disk(paths) == first  # its clear and the new record wait their turn
        assert not engine.flush_record(0.2)  # still waiting, on the worker
    finally:
        holder.release()
    assert engine.flush_record(10.0)
    record = read_record(paths)  # the later start's record: the clear did not overtake it
    assert record is not None and record.pid == second == engine.pid


def test_a_stop_is_done_only_once_its_record_is_cleared(  # type: ignore[no-untyped-def]
    qtbot, make_engine, paths: AppPaths, slow_lock: None
) -> None:
    """A clean stop leaves no record, yet waiting for the lock is not the GUI thread's job."""
    engine = make_engine()
    with qtbot.waitSignal(engine.ready, timeout=15_000):
        engine.start()
    assert engine.flush_record(5.0)
    pid = engine.pid
    stopped: list[bool] = []  # whether the record was still on disk when the stop was done
    holder = LockHolder(paths)
    try:
        engine.stop(lambda: stopped.append(paths.ownership_file.exists()))
        qtbot.waitUntil(lambda: engine.pid is None, timeout=15_000)  # aria2c has ended
        assert not holder.let_go_early, "the GUI thread waited for the ownership lock"
        assert stopped == [] and engine.state == EngineState.STOPPING
        assert _record_on_disk(paths) == pid
    finally:
        holder.release()
    qtbot.waitUntil(lambda: stopped != [], timeout=15_000)
    assert stopped == [False]
    assert engine.state == EngineState.STOPPED


def test_a_stop_waits_for_the_record_only_so_long(  # type: ignore[no-untyped-def]
    qtbot, make_engine, paths: AppPaths, slow_lock: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock that stays busy costs the stop its bound, not the stop; the record catches up."""
    monkeypatch.setattr(engine_record, "BOOKKEEPING_WAIT_MS", 300)
    engine = make_engine()
    with qtbot.waitSignal(engine.ready, timeout=15_000):
        engine.start()
    assert engine.flush_record(5.0)
    stopped: list[bool] = []
    holder = LockHolder(paths)
    try:
        engine.stop(lambda: stopped.append(True))
        qtbot.waitUntil(lambda: stopped == [True], timeout=15_000)
        assert not holder.let_go_early
        assert engine.state == EngineState.STOPPED
        assert paths.ownership_file.exists()  # the clear still waits for the lock
    finally:
        holder.release()
    assert engine.flush_record(10.0)
    assert read_record(paths) is None


def _not_a_program(path: Path) -> Path:
    """A file the engine accepts as aria2c but the OS refuses to start.

    Linux: an executable script whose interpreter does not exist (execve fails).
    Windows: an .exe that is not a program (CreateProcess: ERROR_BAD_EXE_FORMAT).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a program\r\n" if WINDOWS else b"#!/nonexistent/interpreter\n")
    path.chmod(0o755)
    return path


def test_a_start_the_os_refuses_once_is_retried(
    qtbot, make_engine, paths: AppPaths, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A launch the OS refuses to start is retried like a crash, not given up at once.

    Under load Windows (and Wine) now and then refuse a CreateProcess, and an
    antivirus may hold a fresh aria2c.exe for a moment: one refusal must not leave
    the user without an engine. Here the first launch meets a file that is not a
    program, and the retry the real aria2c in its place.
    """
    real = find_aria2c()
    binary = _not_a_program(tmp_path / "bin" / real.name)
    engine = make_engine(EngineSettings(binary_override=str(binary)))
    retried: list[str] = []

    def on_state(state: str) -> None:
        if state == EngineState.RESTARTING and not retried:
            retried.append(engine.error)
            shutil.copy2(real, binary.with_name("next"))
            os.replace(binary.with_name("next"), binary)

    engine.state_changed.connect(on_state)
    engine.start()
    _wait_state(qtbot, engine, EngineState.READY, timeout=30_000)
    assert retried, "the engine never retried the launch"
    if WINDOWS:  # on Linux setpriv starts it, and exec's failure is setpriv's exit 127
        assert "could not be started" in retried[0]
    assert len(_aria2c_of(paths)) == 1


def test_a_program_that_never_starts_fails_after_bounded_retries(
    qtbot, make_engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    binary = _not_a_program(tmp_path / "bin" / find_aria2c().name)
    engine = make_engine(EngineSettings(binary_override=str(binary)))
    states: list[str] = []
    engine.state_changed.connect(states.append)
    engine.start()
    _wait_state(qtbot, engine, EngineState.FAILED, timeout=30_000)
    assert "not restarting" in engine.error
    if WINDOWS:  # Windows' "Bad EXE format for %1." names the program
        assert "could not be started" in engine.error
        assert "%1" not in engine.error and str(binary) in engine.error
    assert 1 <= states.count(EngineState.RESTARTING) < MAX_CRASHES_IN_WINDOW
    qtbot.wait(1000)  # nothing more happens once it has given up
    assert engine.state == EngineState.FAILED

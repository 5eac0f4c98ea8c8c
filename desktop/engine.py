"""The engine: the one and only owner of this instance's aria2c.

Nothing else in Aria Tray starts or stops aria2c. The engine stops a
verified orphan of a previous crash before starting (``aria2_core.orphans``)
and announces the start in the ownership record before the process exists;
starts aria2c through ``QProcess`` from the GUI thread, tied to our life
(``desktop.aria2c_process``; on Windows born inside the app's kill-on-close
job, ``desktop.win_job``); declares it ready only when
*that* process listens on the loopback port and an authenticated
``aria2.getVersion`` answers; retries on a fresh port when the port was
taken, restarts aria2c with backoff after a crash or a start the OS refused,
and gives up visibly after repeated rapid failures; and shuts it down in the documented order: save
session, end, wait, kill (even when RPC failed), drop the ownership record
(written and dropped on a worker of its own, ``desktop.engine_record``, an object the engine owns).
"""

from __future__ import annotations

import collections
import logging
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QProcess, QTimer, Signal, Slot

from aria2_core.binary import find_aria2c
from aria2_core.config import EngineSettings, LaunchSpec, build_launch
from aria2_core.errors import AriaTrayError
from aria2_core.orphans import cleanup_orphan
from aria2_core.paths import AppPaths
from aria2_core.ports import NoFreePortError, pick_free_port
from aria2_core.process_tree import end_all
from aria2_core.readiness import CONFLICT, READY, probe_readiness
from aria2_core.rpc import Aria2Client

from .aria2c_process import (
    ProcessTree,
    describe_exit,
    explain_exit,
    new_aria2c_process,
)
from .engine_record import STOP_NOW_BOOKKEEPING_S, EngineRecord
from .engine_stop import EngineState, EngineStop
from .tasks import TaskRunner
from .win_job import assign_kill_on_close_job, children_in_job

log = logging.getLogger("aria_tray.engine")

READY_TIMEOUT_MS = 10_000
PROBE_INTERVAL_MS = 40
MAX_PORT_RETRIES = 5
CRASH_WINDOW_S = 60.0
MAX_CRASHES_IN_WINDOW = 5
EXIT_SETUP_FAILED = 1
EXIT_BAD_OPTION = 28
# aria2c binds its two loopback addresses one after the other (on Windows ::1
# first, and under load the other one can follow seconds later), so "::1 only"
# is a conflict when aria2c says the IPv4 bind failed, or when it lasts this long.
IPV6_ONLY_GRACE_S = 4.0
IPV4_BIND_FAILED = "IPv4 RPC: failed to bind"


class Engine(EngineStop, QObject):
    """Owns one aria2c through ``QProcess``. Every method runs on the GUI thread."""

    state_changed = Signal(str)
    ready = Signal()
    launched = Signal()  # QProcess.start() returned: aria2c is on its way up

    def __init__(
        self,
        paths: AppPaths,
        settings: EngineSettings,
        tasks: TaskRunner,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._paths = paths
        self._settings = settings
        self._tasks = tasks
        self._state = EngineState.STOPPED
        self._process: QProcess | None = None
        self._spec: LaunchSpec | None = None
        self._client: Aria2Client | None = None
        self._error = ""
        self._port_attempts = 0
        self._crashes: collections.deque[float] = collections.deque(maxlen=MAX_CRASHES_IN_WINDOW)
        self._output: collections.deque[str] = collections.deque(maxlen=30)
        self._ready_deadline = 0.0
        self._ipv6_only_since: float | None = None  # first probe that saw ::1 but not 127.0.0.1
        self._probe_busy = False
        self._on_stopped: list[Callable[[], None]] = []
        self._job_handle: object | None = None  # fallback job, when the app has none
        self._born_in_job = False  # aria2c started inside the app's job (Windows)
        self._child_pid: int | None = None  # processId() reads 0 once finished
        # The QProcess's whole tree (a wrapper script may not exec aria2c):
        # the listener found by readiness, and what we signalled to stop it.
        self._tree = ProcessTree()
        self._reaping = False  # a finished start's leftovers are still being ended
        self._launch_after_reap = False
        self._kill_reason = ""  # set when *we* kill it, so the exit is told truly
        self._port_retry = False  # the current start lost its port: retry elsewhere
        # Bumped by every start() and stop(): a callback queued by an older
        # start (an orphan check still on the worker) must not launch again.
        self._generation = 0
        self.has_launched = False  # an aria2c was started once (``launched`` was emitted)

        self._probe_timer = QTimer(self)
        self._probe_timer.setInterval(PROBE_INTERVAL_MS)
        self._probe_timer.timeout.connect(self._probe)
        self._restart_timer = QTimer(self)
        self._restart_timer.setSingleShot(True)
        self._restart_timer.timeout.connect(self._launch)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill_after_grace)
        self._ownership = EngineRecord(self._paths, self)  # its own worker (engine_record.py)

    # -- public view ------------------------------------------------------
    @property
    def state(self) -> EngineState:
        return self._state

    @property
    def tasks(self) -> TaskRunner:
        """The worker of its RPC calls and probes (the controller's too)."""
        return self._tasks

    @property
    def client(self) -> Aria2Client | None:
        """The RPC client while ready; use it from the task runner only."""
        return self._client if self._state == EngineState.READY else None

    @property
    def pid(self) -> int | None:
        if self._process is None or self._process.state() == QProcess.ProcessState.NotRunning:
            return None
        return self._tree.listener or int(self._process.processId()) or None

    @property
    def port(self) -> int | None:
        return self._spec.port if self._spec else None

    def flush_record(self, timeout_s: float = STOP_NOW_BOOKKEEPING_S) -> bool:
        """Block until the ownership record's queued steps have run (at most ``timeout_s``)."""
        return self._ownership.flush(timeout_s)

    @property
    def error(self) -> str:
        return self._error

    def update_settings(self, settings: EngineSettings) -> None:
        """Used at the next (re)start; live changes go through RPC."""
        self._settings = settings

    # -- start ------------------------------------------------------------
    def start(self) -> None:
        """Start aria2c (after clearing a verified orphan). Idempotent."""
        if self._state in (EngineState.STARTING, EngineState.READY, EngineState.STOPPING):
            return
        self._error = ""
        self._port_attempts = 0
        # A crash restart still pending is superseded: its launch could
        # otherwise race the orphan check below, which would take the fresh
        # aria2c it records for an orphan.
        self._restart_timer.stop()
        self._set_state(EngineState.STARTING)
        self._generation += 1
        generation = self._generation
        if self._ownership.announce_now():
            self._launch()  # no record: nothing a crash left, so no check to wait for
            return

        def checked(report: object) -> None:
            self._after_orphan_check(generation, report)

        self._tasks.run(lambda: cleanup_orphan(self._paths), on_done=checked, on_error=checked)

    def restart(self) -> None:
        """Start again after a FAILED state (the user asked for it)."""
        self._crashes.clear()
        if self._state == EngineState.FAILED:
            self._set_state(EngineState.STOPPED)
        self.start()

    def _after_orphan_check(self, generation: int, report: object) -> None:
        if generation != self._generation:
            log.debug("dropping the orphan check of an abandoned start")
            return
        if isinstance(report, BaseException):
            log.warning("orphan check failed: %s", report)
        elif getattr(report, "action", "none") != "none":
            log.info("orphan check: %s", getattr(report, "detail", report))
        if self._state == EngineState.STARTING:
            self._ownership.announce(lambda: self._announced(generation))

    def _announced(self, generation: int) -> None:
        if generation == self._generation and self._state == EngineState.STARTING:
            self._launch()

    @Slot()
    def _launch(self) -> None:
        if self._state not in (EngineState.STARTING, EngineState.RESTARTING):
            return
        if self._process is not None or self._reaping:
            # One aria2c per home, always: a launch waits for the last one's end.
            log.info("aria2c launch waits: the previous one has not ended yet")
            self._launch_after_reap = self._reaping
            return
        self._set_state(EngineState.STARTING)
        try:
            binary = find_aria2c(self._settings.binary_override)
            preferred = self._settings.preferred_port if self._port_attempts == 0 else None
            port = preferred or pick_free_port()
            self._spec = build_launch(binary, self._paths, self._settings, port, os.getpid())
        except NoFreePortError as exc:
            self._schedule_restart(str(exc))  # ports come back as connections close
            return
        except (AriaTrayError, OSError) as exc:
            self._fail(str(exc))
            return
        process = new_aria2c_process(self._spec, self._paths.engine_dir, self)
        process.readyReadStandardOutput.connect(self._read_output)
        process.started.connect(self._on_started)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_process_error)
        self._process = process
        self._output.clear()
        self._ipv6_only_since = None
        log.info("starting %s on 127.0.0.1:%d", binary, port)
        with children_in_job() as self._born_in_job:
            process.start()  # CreateProcess happens here, synchronously
        self.has_launched = True
        self.launched.emit()

    @Slot()
    def _on_started(self) -> None:
        process, spec = self._process, self._spec
        if process is None or spec is None or self.sender() is not process:
            return
        pid = int(process.processId())
        self._child_pid = pid
        self._tree = ProcessTree(pid)
        self._kill_reason = ""
        self._ownership.record(pid, spec)
        if sys.platform == "win32" and not self._born_in_job:
            # The app could not contain itself (logged): tie aria2c to us now.
            self._job_handle = assign_kill_on_close_job(pid, self._job_handle)
        self._client = Aria2Client(spec.port, spec.secret, timeout=5.0)
        self._ready_deadline = time.monotonic() + READY_TIMEOUT_MS / 1000
        self._probe_busy = False
        self._probe_timer.start()
        self._probe()  # now, not a tick later: the UI was built meanwhile

    @Slot()
    def _probe(self) -> None:
        """One readiness probe at a time, on the worker; the timer paces them."""
        if self._probe_busy or self._client is None or self._process is None:
            return
        if time.monotonic() > self._ready_deadline:
            log.error("aria2c did not become ready in %d ms", READY_TIMEOUT_MS)
            self._kill_reason = (
                f"did not answer within {READY_TIMEOUT_MS // 1000} s (hung?) and was killed"
            )
            self._abandon_port()
            return
        process, client = self._process, self._client
        pid = int(process.processId())
        self._probe_busy = True

        def result(outcome: object) -> None:
            if process is self._process:  # else: a probe of a start that is over
                self._probe_result(outcome)

        self._tasks.run(lambda: probe_readiness(pid, client), on_done=result, on_error=result)

    def _probe_result(self, outcome: object) -> None:
        self._probe_busy = False
        if self._state != EngineState.STARTING:
            return
        result, listener, below = outcome if isinstance(outcome, tuple) else (outcome, None, [])
        if result == READY:
            self._probe_timer.stop()
            self._port_attempts = 0
            self._tree.found_ready(listener, below)
            if listener is not None and listener != self._child_pid:
                log.info("aria2c pid %s listens for wrapper pid %s", listener, self._child_pid)
                if self._spec is not None:
                    self._ownership.record(listener, self._spec)
            log.info("aria2c ready: pid %s, port %s", self.pid, self.port)
            self._set_state(EngineState.READY)
            self.ready.emit()
        elif result == CONFLICT:
            if not self._ipv4_bind_failed():
                return
            log.warning(
                "another program holds 127.0.0.1:%s (aria2c bound only IPv6); "
                "retrying on another port",
                self.port,
            )
            self._abandon_port()
        elif isinstance(result, BaseException):
            log.debug("readiness probe: %s", result)

    def _ipv4_bind_failed(self) -> bool:
        """Whether "listening on ::1 only" means someone else holds 127.0.0.1:port."""
        if any(IPV4_BIND_FAILED in line for line in self._output):
            return True
        now = time.monotonic()
        if self._ipv6_only_since is None:
            self._ipv6_only_since = now
        return now - self._ipv6_only_since >= IPV6_ONLY_GRACE_S

    def _abandon_port(self) -> None:
        """Kill this start and retry on a fresh port; _on_finished does the retry."""
        self._probe_timer.stop()
        self._port_retry = True
        self._kill_tree()

    # -- process events ---------------------------------------------------
    @Slot()
    def _read_output(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardOutput().data()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                self._output.append(line.strip())
                log.info("aria2c: %s", line.strip())

    @Slot(QProcess.ProcessError)
    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        process, refused = self._process, error == QProcess.ProcessError.FailedToStart
        if process is None or self.sender() is not process or not refused:
            return
        # No finished() follows a refused start (CreateProcess failing under load, an
        # antivirus holding aria2c.exe): it is retried like a crash, in the same budget.
        self._process = None
        process.deleteLater()
        why = process.errorString().replace("%1", process.program())  # Windows' "%1"
        if self._state == EngineState.STOPPING:
            self._finish_stop()
        elif self._state == EngineState.STARTING:  # _launch set it before start()
            self._schedule_restart(f"aria2c could not be started: {why}")

    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        process = self.sender()
        if process is not self._process:
            return
        self._read_output()
        self._probe_timer.stop()
        self._client = None
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        how = self._kill_reason or describe_exit(exit_code, crashed)
        log.log(
            logging.INFO if self._state == EngineState.STOPPING else logging.WARNING,
            "aria2c %s in state %s",
            how,
            self._state,
        )
        # The record stays: it names this app until the restart's record replaces
        # it, or a clean stop clears it (engine_record.py).
        self._process = None
        if process is not None:
            process.deleteLater()
        leftovers = self._tree.leftovers()
        if not leftovers:
            self._after_exit(exit_code, crashed, how)
            return
        # A wrapper ended, but what it started lives on: end that first.
        log.warning("ending %d process(es) aria2c's wrapper left", len(leftovers))
        self._reaping = True

        def reaped(_: object) -> None:
            self._reaping = False
            self._after_exit(exit_code, crashed, how)
            if self._launch_after_reap:
                self._launch_after_reap = False
                self._launch()

        if not self._tasks.run(lambda: end_all(leftovers, 3.0), on_done=reaped, on_error=reaped):
            reaped(end_all(leftovers, 1.0))

    def _after_exit(self, exit_code: int, crashed: bool, how: str) -> None:
        """What the end of aria2c means in the state it happened in."""
        if self._state == EngineState.STOPPED:
            return  # stop_now finished the stop while leftovers were being ended
        if self._state == EngineState.STOPPING:
            self._finish_stop()
            return
        if self._state == EngineState.FAILED:
            return
        last = explain_exit(self._output)
        port_retry, self._port_retry = self._port_retry, False
        if self._state == EngineState.STARTING and (port_retry or not crashed):
            setup_failed = port_retry or exit_code == EXIT_SETUP_FAILED
            if setup_failed and self._port_attempts < MAX_PORT_RETRIES:
                self._port_attempts += 1
                log.warning("aria2c could not set up (port busy?); retrying on another port")
                self._set_state(EngineState.RESTARTING)
                self._restart_timer.start(0)
                return
            if exit_code == EXIT_BAD_OPTION and not port_retry:
                self._fail(f"aria2c rejected its options: {last}")
                return
        self._schedule_restart(f"aria2c stopped unexpectedly: it {how}. {last}".strip())

    def _schedule_restart(self, reason: str) -> None:
        now = time.monotonic()
        self._crashes.append(now)
        recent = [t for t in self._crashes if now - t < CRASH_WINDOW_S]
        if len(recent) >= MAX_CRASHES_IN_WINDOW:
            self._fail(f"{reason} It failed {len(recent)} times in a minute; not restarting.")
            return
        delay_ms = min(250 * 2 ** (len(recent) - 1), 8_000)
        log.warning("%s Restarting in %d ms.", reason, delay_ms)
        self._error = reason
        self._set_state(EngineState.RESTARTING)
        self._restart_timer.start(delay_ms)

    def _fail(self, message: str) -> None:
        log.error("engine failed: %s", message)
        self._error = message
        self._probe_timer.stop()
        self._restart_timer.stop()
        self._client = None
        self._kill_tree()
        self._set_state(EngineState.FAILED)

    # -- helpers ----------------------------------------------------------
    def _set_state(self, state: EngineState) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(str(state))

"""How the engine stops aria2c: orderly, forcefully, or blocking at the very end.

A mixin of :class:`desktop.engine.Engine`, kept apart so the state machine
that starts aria2c stays readable. The order is the documented one: save
the session, end aria2c (SIGTERM to it and to whatever a wrapper started),
wait, kill **even when RPC failed**, let the ownership record's worker
clear the record, then tell whoever waits. Every step is bounded: RPC by
its timeout, the wait by :data:`STOP_GRACE_MS`, the blocking variant by
``waitForFinished``, the record by ``engine_record``'s bounds.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from PySide6.QtCore import QProcess, QTimer, Slot

from aria2_core.config import LaunchSpec
from aria2_core.errors import AriaTrayError
from aria2_core.process_tree import end_all
from aria2_core.rpc import Aria2Client

from .aria2c_process import ProcessTree, wake_event_loop

if TYPE_CHECKING:
    from .engine_record import EngineRecord
    from .tasks import TaskRunner

log = logging.getLogger("aria_tray.engine")

STOP_GRACE_MS = 5_000
# stop_now runs inside Windows' WM_ENDSESSION (via aboutToQuit), which gets about 5 s
# before the session ends regardless; save + shutdown + wait + kill must fit well inside.
STOP_NOW_BUDGET_S = 2.5


class EngineState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    RESTARTING = "restarting"
    STOPPING = "stopping"
    FAILED = "failed"


class EngineStop:
    """stop(), stop_now() and the kills they use; state lives in ``Engine``."""

    if TYPE_CHECKING:
        _state: EngineState
        _process: QProcess | None
        _spec: LaunchSpec | None
        _client: Aria2Client | None
        _tasks: TaskRunner
        _tree: ProcessTree
        _generation: int
        _kill_reason: str
        _on_stopped: list[Callable[[], None]]
        _probe_timer: QTimer
        _restart_timer: QTimer
        _kill_timer: QTimer
        _ownership: EngineRecord

        @property
        def port(self) -> int | None: ...

        def _set_state(self, state: EngineState) -> None: ...

    def stop(self, on_stopped: Callable[[], None] | None = None) -> None:
        """Save, shut down, wait, kill if needed; once the record is cleared, ``on_stopped``."""
        if on_stopped is not None:
            self._on_stopped.append(on_stopped)
        if self._state == EngineState.STOPPING:
            return
        self._generation += 1  # a pending orphan check of the last start() is void now
        self._probe_timer.stop()
        self._restart_timer.stop()
        process = self._process
        if process is None or process.state() == QProcess.ProcessState.NotRunning:
            self._set_state(EngineState.STOPPING)
            self._finish_stop()
            return
        client = self._client
        self._set_state(EngineState.STOPPING)
        self._kill_timer.start(STOP_GRACE_MS)
        if client is None:
            self._terminate_gently("was stopped before its RPC was ready and was killed")
            return

        def save() -> None:
            client.save_session(timeout=2.0)
            if sys.platform == "win32":
                client.call("aria2.forceShutdown", timeout=2.0)

        def saved(_: object) -> None:
            if sys.platform != "win32":
                self._terminate_gently("")

        def save_failed(exc: BaseException) -> None:
            # Kill even when RPC failed: that is where orphans are born.
            log.warning("RPC save/shutdown failed (%s); terminating aria2c", exc)
            self._terminate_gently("did not answer its RPC shutdown request (hung?) and was killed")

        self._tasks.run(save, on_done=saved, on_error=save_failed)

    def _terminate_gently(self, windows_kill_reason: str) -> None:
        """End aria2c so that it saves its session; fall back to kill on Windows.

        SIGTERM makes aria2c save its session and exit, but it notices only
        when its event loop wakes, up to a second later; a TCP connect to its
        RPC port wakes it at once. On Windows ``terminate()`` would send
        WM_CLOSE, which a console program ignores, so there the RPC shutdown
        above does the work and this is the kill that follows, told in the
        log as ``windows_kill_reason`` (not as a crash with Qt's kill code
        0xf291). A wrapper's children get the same signal as the wrapper.
        """
        process, port = self._process, self.port
        if process is None:
            return
        if sys.platform == "win32":
            if process.state() != QProcess.ProcessState.NotRunning:
                self._kill_reason = windows_kill_reason
            self._kill_tree()
            return
        self._tree.signal(kill=False)
        process.terminate()
        if port:
            self._tasks.run(lambda: wake_event_loop(port))

    def _kill_tree(self) -> None:
        """SIGKILL aria2c and everything it started (a wrapper's aria2c too)."""
        process = self._process
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            self._tree.signal(kill=True)
            process.kill()

    @Slot()
    def _kill_after_grace(self) -> None:
        if self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning:
            log.warning("aria2c still running %d ms after shutdown; killing it", STOP_GRACE_MS)
            self._kill_reason = (
                f"did not exit within {STOP_GRACE_MS // 1000} s of being asked to and was killed"
            )
            self._kill_tree()

    def _finish_stop(self) -> None:
        """aria2c is gone; the stop is done once its ownership record is cleared (bounded)."""
        self._kill_timer.stop()
        self._client = None
        self._ownership.clear_ours()
        self._ownership.after_pending(self._stopped)

    def _stopped(self) -> None:
        if self._state != EngineState.STOPPING:
            return  # stop_now finished it meanwhile
        self._set_state(EngineState.STOPPED)
        callbacks, self._on_stopped = self._on_stopped, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one failing caller must not stop the others
                log.exception("engine stop callback failed")

    def save_session_now(self, timeout: float = 1.0) -> bool:
        """Blocking, bounded ``aria2.saveSession``, for when the session is ending.

        Windows asks (WM_QUERYENDSESSION, Qt's ``commitDataRequest``) and may
        end the process soon after: the worker queue could be too late.
        Uses its own RPC client: the worker's may be mid-call.
        """
        spec = self._spec
        if spec is None or self._state != EngineState.READY:
            return False
        client = Aria2Client(spec.port, spec.secret, timeout=timeout)
        try:
            client.save_session()
            return True
        except AriaTrayError as exc:
            log.warning("saving the session at session end failed: %s", exc)
            return False
        finally:
            client.close()

    def stop_now(self, save: bool = True) -> None:
        """Blocking stop within ``STOP_NOW_BUDGET_S``, for the last moment (``aboutToQuit``).

        Used only when the event loop is already going away, so the async
        path above cannot finish. Uses its own RPC client: the worker's may
        be mid-call. ``save=False`` is the forceful quit (a second signal):
        no RPC at all, SIGTERM to the tree, SIGKILL one second later.
        """
        self._generation += 1
        process, spec = self._process, self._spec
        if process is None or process.state() == QProcess.ProcessState.NotRunning:
            self._stop_now_done()
            return
        deadline = time.monotonic() + (STOP_NOW_BUDGET_S if save else 2.0)
        self._set_state(EngineState.STOPPING)
        self._probe_timer.stop()
        self._restart_timer.stop()
        if spec is not None and save:
            client = Aria2Client(spec.port, spec.secret, timeout=0.8)
            try:
                client.save_session()
                if sys.platform == "win32":
                    client.call("aria2.forceShutdown")
            except AriaTrayError as exc:
                log.warning("RPC save/shutdown failed at exit (%s)", exc)
            finally:
                client.close()
        if sys.platform != "win32":
            self._tree.signal(kill=False)
            process.terminate()
            if spec is not None:
                wake_event_loop(spec.port)
        # Keep 1 s of the budget for the kill, its wait and the leftovers.
        if not process.waitForFinished(max(int((deadline - time.monotonic() - 1.0) * 1000), 1)):
            self._kill_reason = "did not exit in time at shutdown and was killed"
            self._kill_tree()
            process.waitForFinished(500)
        # the finished handler's reaping may not run now
        end_all(self._tree.leftovers(), max(deadline - time.monotonic(), 0.2))
        self._stop_now_done()

    def _stop_now_done(self) -> None:
        """The end of ``stop_now``: the record cleared (bounded wait), STOPPED, callbacks run."""
        self._kill_timer.stop()
        self._client = None
        self._ownership.clear_ours()
        self._ownership.flush()
        self._ownership.close()  # also drops a stop's queued wait for it: we finish here
        if self._state != EngineState.STOPPED:
            self._set_state(EngineState.STOPPING)
            self._stopped()

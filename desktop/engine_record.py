"""The engine's ownership record, kept off the GUI thread, in order, awaited at stop.

An object the :class:`desktop.engine.Engine` owns. Writing or clearing the record
(``aria2_core.ownership``) takes a file lock, which waits up to
``LOCK_TIMEOUT_S`` (5 s) while another process (``--cleanup``, a launch's
orphan check) holds it, and then writes atomically with two fsyncs. On
the GUI thread that stalled the window by milliseconds at every engine
start and stop, and by seconds when the lock was busy (issue 8, "Also").

So every step runs on one worker of its own, a :class:`TaskRunner` like the
RPC and journal workers but not shared with them: an RPC call to a hung
aria2c (2 s and more) must not delay the record of the next start, and the
journal's acknowledgements must not wait for the ownership lock. One thread
keeps the steps in the order the engine asked for them, so the clear of a
stopped aria2c never overtakes the record of the next one.

A start is *announced* here before aria2c exists (:meth:`EngineRecord.announce`),
and from then on a record naming this app stays on disk until a clean stop
clears it (:meth:`EngineRecord.clear_ours`): an aria2c crash keeps it until
the restarted one's record replaces it. So an app killed at any moment, even
between a launch and its record, leaves the next start a record to go by
(``aria2_core.orphans``).

The promises stay those of the synchronous version:

* the record is queued the moment aria2c has started (as before, written
  once it runs), and is normally on disk milliseconds later, before aria2c
  even answers its first readiness probe;
* a stop is *done* (state STOPPED, its callbacks run) only once the steps
  queued before it have run, at most :data:`BOOKKEEPING_WAIT_MS`, so a
  clean exit leaves no record behind; the blocking ``stop_now`` waits at
  most :data:`STOP_NOW_BOOKKEEPING_S`, within the session-end budget;
* a failing step is logged on the worker and never stops the state machine;
  a record left behind only costs the next start an orphan check that
  finds nothing to stop.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from aria2_core import ownership
from aria2_core.config import LaunchSpec
from aria2_core.paths import AppPaths

from .tasks import TaskRunner

log = logging.getLogger("aria_tray.engine")

# A stop waits for the record's steps this long: one lock wait and its writes.
BOOKKEEPING_WAIT_MS = int(ownership.LOCK_TIMEOUT_S * 1000) + 1_000
STOP_NOW_BOOKKEEPING_S = 1.0  # stop_now's share, on top of STOP_NOW_BUDGET_S
ANNOUNCE_NOW_LOCK_S = 0.2  # a start's own announcement waits this long for the lock


class EngineRecord(QObject):
    """The ownership record's worker, and a stop's wait for the steps queued before it."""

    def __init__(self, paths: AppPaths, parent: QObject) -> None:
        super().__init__(parent)
        self._paths = paths
        self._tasks = TaskRunner(self, name="aria-tray-ownership")
        self._steps = 0  # queued steps whose end the GUI thread has not heard of yet
        self._ours = False  # a record of ours is (or is queued to be) on disk
        self._settling: Callable[[object], None] | None = None  # a stop awaiting the worker
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.timeout.connect(self._settle_timed_out)

    def announce_now(self) -> bool:
        """Announce the start here and now, when no record is on disk; False if not done.

        No record means a clean stop came last, so there is no orphan to look
        for (the check reads nothing else): the first launch need not wait for
        two trips to a worker and back through an event loop that, early in
        start-up, does not run yet. The lock is normally free (we hold the
        instance lock); if it is not, :data:`ANNOUNCE_NOW_LOCK_S` bounds the
        wait and the caller takes the worker's way.
        """
        if self._steps or self._paths.ownership_file.exists():
            return False
        try:
            ownership.announce_start(self._paths, ANNOUNCE_NOW_LOCK_S)
        except Exception as exc:
            log.info("announcing the aria2c start from here failed (%s); the worker will", exc)
            return False
        self._ours = True
        return True

    def announce(self, then: Callable[[], None]) -> None:
        """Record that this app is about to launch aria2c; then, on the GUI thread, ``then()``.

        ``then`` runs even when the announcement could not be written (logged):
        the record is a safety net for the next start, not a permission.
        """
        self._ours = True
        self._bookkeep("announce the aria2c start", ownership.announce_start, self._paths)
        self.after_pending(then)

    def record(self, pid: int, spec: LaunchSpec) -> None:
        """Queue the record of the aria2c (or wrapper's listener) ``pid`` started from ``spec``."""
        self._ours = True
        self._bookkeep(
            "record ownership",
            ownership.record_started,
            self._paths,
            pid,
            spec.program,
            str(spec.conf_path),
            spec.port,
        )

    def clear_ours(self) -> None:
        """Queue the removal of the record this app wrote, if any: the end of a clean stop."""
        if not self._ours:
            return
        self._ours = False
        self._bookkeep(
            "clear the ownership record", ownership.clear_record, self._paths, only_app=os.getpid()
        )

    def _bookkeep(self, what: str, fn: Callable[..., object], *args: object, **kw: object) -> None:
        """Run a bookkeeping step on the worker; its failure is logged, never stops the engine.

        The ownership record only helps the *next* start find an orphan; a
        broken lock file or a full disk must not cost a restart or a quit.
        """

        def step() -> None:
            try:
                fn(*args, **kw)
            except Exception as exc:
                log.warning("could not %s: %s", what, exc)

        if self._tasks.run(step, on_done=self._step_done):
            self._steps += 1
        else:
            log.warning("could not %s: the engine has shut down", what)

    def _step_done(self, _: object) -> None:
        self._steps -= 1

    def after_pending(self, then: Callable[[], None]) -> None:
        """Call ``then`` once the steps queued so far have run, or after the bound.

        At once when none is pending: a stop of a stopped engine answers at once.
        """
        if self._steps == 0:
            then()
            return

        def settle(_: object = None) -> None:
            if self._settling is settle:
                self._settling = None
                self._settle_timer.stop()
                then()

        self._settling = settle
        if self._tasks.run(lambda: None, on_done=settle, on_error=settle):
            self._settle_timer.start(BOOKKEEPING_WAIT_MS)
        else:
            settle()

    def _settle_timed_out(self) -> None:
        if self._settling is not None:
            log.warning(
                "the ownership record is still being written after %d ms; not waiting longer",
                BOOKKEEPING_WAIT_MS,
            )
            self._settling(None)

    def flush(self, timeout_s: float = STOP_NOW_BOOKKEEPING_S) -> bool:
        """Block until the queued steps have run, at most ``timeout_s``.

        For the last moment of a stop (``stop_now``), when the event loop may
        not run again; and for tests that read the record. True if they ran.
        """
        if self._tasks.wait_idle(timeout_s):
            return True
        log.warning("the ownership record is still being written after %.1f s", timeout_s)
        return False

    def close(self) -> None:
        """The engine's life is over (``stop_now``): no more steps, and a queued stop's
        wait is dropped (the blocking stop finishes the stop itself)."""
        self._settling = None
        self._settle_timer.stop()
        self._tasks.shutdown(wait=False)

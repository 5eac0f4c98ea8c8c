"""Run blocking work off the GUI thread and hand results back to it.

RPC calls go over the network, so they never run on the GUI thread. A
single worker thread keeps them in order (an add is never overtaken by the
refresh that should show it). Results come back through a queued Qt signal,
so callbacks always run on the GUI thread and may touch widgets freely.
The same class runs the other work the GUI thread must not wait for, each
on a worker of its own: the journal's fsyncs, the ownership record's lock
and writes, the option catalog's ``aria2c`` runs.

**The GIL goes back to the GUI thread within 1 ms.** A worker that runs
Python (a refresh turning thousands of rows into records, a drop's links
being parsed) holds the GIL; a thread that wants it waits the switch
interval before the holder is asked to let go, 5 ms by default. The GUI
thread wants it for every event it handles, so with a worker busy each
tick of the event loop waited up to 5 ms more. With the first worker the
interval becomes 1 ms (``GUI_SWITCH_INTERVAL_S``): in the 1,000-link drop
benchmark the idle floor fell from 12–19 ms to 7–8 ms and the longest stall
from 21–30 ms to 16–26 ms (medians, interleaved runs, a loaded 2-core
machine). The cost is more thread switches while workers run.

**A late result never reaches a runner that is gone.** ``shutdown(wait=False)``
(the ownership record's, at the very end) leaves the running call to finish
on its own, and the runner is usually deleted with its owner before it
does. Its result is then dropped: the worker emits only through an open
:class:`_Gate`, checked under the gate's lock, and both shutdown and the
runner's ``destroyed`` close it (waiting for an emit in progress), so a
worker never emits on a deleted object (which raised in the worker, or,
had the deletion run at that moment, used freed memory).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger("aria_tray.tasks")

GUI_SWITCH_INTERVAL_S = 0.001
Callback = Callable[[Any], None]
Errback = Callable[[BaseException], None]


class _Gate:
    """Whether results may still be emitted; the worker checks under the lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = True

    def close(self, *_destroyed: object) -> None:
        with self.lock:  # an emit in progress finishes first
            self.open = False


class TaskRunner(QObject):
    """``run(fn, on_done, on_error)``: ``fn`` on the worker, callbacks on the GUI thread."""

    _finished = Signal(object)

    def __init__(self, parent: QObject | None = None, name: str = "aria-tray-rpc") -> None:
        super().__init__(parent)
        sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)  # see the module docstring
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=name
        )
        self._finished.connect(self._deliver)
        self._gate = gate = _Gate()
        # Not a method of self: it must run while self is being destroyed.
        self.destroyed.connect(gate.close)

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callback | None = None,
        on_error: Errback | None = None,
    ) -> bool:
        """Queue ``fn``. Returns False (and calls nothing) once shut down."""
        if self._pool is None:
            return False
        future = self._pool.submit(fn)
        gate, finished = self._gate, self._finished

        def hand_back(done: Future[Any]) -> None:
            # On the worker thread: queues delivery to our (GUI) thread, if we still exist.
            with gate.lock:
                if gate.open:
                    finished.emit((done, on_done, on_error))

        future.add_done_callback(hand_back)
        return True

    @Slot(object)
    def _deliver(self, item: tuple[Future[Any], Callback | None, Errback | None]) -> None:
        future, on_done, on_error = item
        if future.cancelled():
            return
        exc = future.exception()
        try:
            if exc is not None:
                if on_error is not None:
                    on_error(exc)
                else:
                    log.error("background task failed: %s", exc, exc_info=exc)
            elif on_done is not None:
                on_done(future.result())
        except Exception:
            log.exception("callback of a background task failed")

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until the work queued so far has run, at most ``timeout_s``; True if it has.

        For the very end, when the event loop may not run again (callbacks of
        that work are then delivered only if it does). One worker runs in
        order, so a marker queued now that has run means all before it has.
        """
        pool = self._pool
        if pool is None:
            return True
        done, _ = wait_for([pool.submit(lambda: None)], timeout=max(timeout_s, 0.0))
        return bool(done)

    def shutdown(self, wait: bool = True) -> None:
        """Drop queued work; with ``wait``, wait for the running call (bounded by its timeout)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
        # Waited for: the running call's result is already queued to us. Not waited
        # for: it comes when we may be gone, so it is dropped.
        self._gate.close()

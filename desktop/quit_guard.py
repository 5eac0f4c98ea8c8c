"""Quitting always ends, and in bounded time.

The orderly shutdown (save the session, end aria2c, wait, kill) is bounded
by its own timeouts, but something outside them can still hang: a stuck
bookkeeping step, a worker call that never returns. So, after qutebrowser's
``interrupt_forcefully``:

* the first SIGTERM/SIGINT/SIGHUP asks for the orderly shutdown;
* a second one while it runs forces it: no RPC, aria2c's whole tree gets
  SIGTERM and, a second later, SIGKILL; the exit code is 128 + the signal;
* a third one ends the process at once (``os._exit``);
* an orderly shutdown still running after :data:`QUIT_DEADLINE_MS` is
  forced the same way, and a watchdog *thread* ends the process after
  :data:`HARD_EXIT_S` even if the GUI thread is stuck outside Qt's event
  loop. Both fit inside ``--quit``'s 15 s wait.

On Linux aria2c gets SIGTERM from PDEATHSIG when we die, on Windows the Job
Object ends it, so even the last resort leaves no aria2c behind.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger("aria_tray.app")

QUIT_DEADLINE_MS = 10_000
DEADLINE_ENV = "ARIA_TRAY_QUIT_DEADLINE_MS"  # a shorter deadline, for tests
HARD_EXIT_S = 13.0
EXIT_FORCED = 1  # the deadline forced the quit (a signal gives 128 + signum)


class QuitGuard(QObject):
    """Counts quit signals and watches the clock once quitting began.

    ``orderly()`` starts the normal shutdown, ``forced(reason, code)`` the
    forceful one; both are the app's. Call :meth:`done` when the process is
    about to return from ``main`` so the watchdog stands down.
    """

    def __init__(
        self,
        orderly: Callable[[str], None],
        forced: Callable[[str, int], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._orderly = orderly
        self._forced = forced
        self._signals = 0
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(self._deadline_passed)
        self._watchdog: threading.Timer | None = None

    def on_signal(self, signum: int) -> None:
        """A quit signal arrived (on the GUI thread, through the signal relay)."""
        self._signals += 1
        if self._signals == 1:
            self._orderly(f"signal {signum}")
        elif self._signals == 2:
            self._forced(f"second signal {signum}", 128 + signum)
        else:
            log.warning("signal %s again: exiting at once", signum)
            logging.shutdown()
            os._exit(128 + signum)

    def arm(self) -> None:
        """Quitting began: start the deadline and the watchdog (idempotent)."""
        if self._watchdog is not None:
            return
        self._deadline.start(deadline_ms())
        self._watchdog = threading.Timer(HARD_EXIT_S, _hard_exit)
        self._watchdog.daemon = True
        self._watchdog.start()

    def done(self) -> None:
        """The process is ending on its own: stand down."""
        self._deadline.stop()
        if self._watchdog is not None:
            self._watchdog.cancel()

    def _deadline_passed(self) -> None:
        self._forced(f"still quitting after {deadline_ms()} ms", EXIT_FORCED)


def deadline_ms() -> int:
    """:data:`QUIT_DEADLINE_MS`, or a shorter one from ``ARIA_TRAY_QUIT_DEADLINE_MS``."""
    try:
        wanted = int(os.environ.get(DEADLINE_ENV, QUIT_DEADLINE_MS))
    except ValueError:
        return QUIT_DEADLINE_MS
    return min(max(wanted, 0), QUIT_DEADLINE_MS)


#: How long the watchdog lets the log take its last line before it exits anyway.
LAST_LOG_S = 1.0


def _hard_exit() -> None:
    """The last resort, which must need nothing the stuck thread may hold.

    A GUI thread hung inside a log call (a stderr pipe nobody reads, a log
    file on a stalled share) holds that handler's lock: logging from here
    would wait on it forever. So the reason goes straight to fd 2 first, the
    log gets its line from a thread of its own for at most :data:`LAST_LOG_S`,
    and the process ends whether or not that finished.
    """
    reason = f"shutdown did not finish within {HARD_EXIT_S:.0f} s; exiting at once"
    try:
        os.write(2, f"Aria Tray: {reason}\n".encode())
    except OSError:
        pass  # no stderr (a GUI launch on Windows): the log line below is all there is

    def last_line() -> None:
        log.error("%s", reason)
        logging.shutdown()

    writer = threading.Thread(target=last_line, name="aria-tray-last-log", daemon=True)
    writer.start()
    writer.join(LAST_LOG_S)
    os._exit(EXIT_FORCED)

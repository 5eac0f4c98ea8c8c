"""Turn SIGTERM/SIGINT/SIGHUP into a Qt signal, promptly.

A plain Python signal handler only runs when the interpreter next runs
Python code, which inside ``app.exec()`` can be seconds later. Instead the C
level handler writes the signal number to a socket (``set_wakeup_fd``) and a
``QSocketNotifier`` wakes the event loop at once.

Without any handler SIGTERM kills the app with status 143 and Qt never
emits ``aboutToQuit``, which is how embedded aria2c processes get orphaned.
"""

from __future__ import annotations

import logging
import signal
import socket

from PySide6.QtCore import QObject, QSocketNotifier, Signal, Slot

log = logging.getLogger("aria_tray.signals")


def quit_signals() -> tuple[signal.Signals, ...]:
    names = ("SIGTERM", "SIGINT", "SIGHUP", "SIGBREAK")
    return tuple(getattr(signal, n) for n in names if hasattr(signal, n))


class SignalRelay(QObject):
    """Emits ``received(signum)`` on the GUI thread for each quit signal."""

    received = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._old_wakeup = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._old_handlers = {}
        for signum in quit_signals():
            # The handler itself does nothing: the wakeup fd carries the news.
            self._old_handlers[signum] = signal.signal(signum, lambda *_: None)
        kind = QSocketNotifier.Type.Read
        self._notifier: QSocketNotifier | None = QSocketNotifier(self._reader.fileno(), kind, self)
        self._notifier.activated.connect(self._on_ready)

    @Slot()
    def _on_ready(self) -> None:
        try:
            data = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        for signum in data:
            log.info("received signal %s", signum)
            self.received.emit(int(signum))

    def close(self) -> None:
        """Restore the previous handlers; idempotent."""
        if self._notifier is None:
            return
        self._notifier.setEnabled(False)
        self._notifier = None
        for signum, handler in self._old_handlers.items():
            try:
                signal.signal(signum, handler)
            except (ValueError, TypeError):
                pass
        signal.set_wakeup_fd(self._old_wakeup)
        self._reader.close()
        self._writer.close()

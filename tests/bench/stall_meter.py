"""How long the GUI thread could not run its event loop: the longest gap between timer ticks.

A 5 ms precise timer ticks on the GUI thread; any work that holds that thread
(a handler, an fsync, the GIL held by a worker) delays the next tick. The
longest gap is how long the window could not repaint or take input; one
frame (16 ms) is the target the benchmarks print next to it.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, Qt, QTimer


class StallMeter:
    """The longest gap between 5 ms timer ticks: how long the event loop was busy."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.longest_ms = 0

    def start(self) -> None:
        self.longest_ms = 0
        self.clock.start()
        self.timer.start()

    def restart(self) -> float:
        """The longest gap so far (s); measure afresh from now."""
        self._tick()
        longest, self.longest_ms = self.longest_ms, 0
        return longest / 1000

    def _tick(self) -> None:
        self.longest_ms = max(self.longest_ms, self.clock.restart())

    def stop(self) -> float:
        self.timer.stop()
        self._tick()
        return self.longest_ms / 1000

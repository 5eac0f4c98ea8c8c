"""How long the GUI thread could not run its event loop: the longest gap between timer ticks.

A 5 ms precise timer ticks on the GUI thread; any work that holds that thread
(a handler, an fsync, the GIL held by a worker) delays the next tick. The
longest gap is how long the window could not repaint or take input; one
frame (16 ms) is the target the benchmarks print next to it.

On a shared, loaded machine that wall-clock gap also holds the time the
GUI thread waited for a CPU, so two companions tell our share from the
machine's:

* ``longest_cpu_ms``: the most CPU time the GUI thread itself used between
  two ticks (``time.thread_time``): the longest piece of our own work on
  it, whatever the load;
* ``longest_gc_ms``: the longest garbage collection on any thread while
  measuring; a collection holds the GIL, so the GUI thread waits it out.

:meth:`StallMeter.idle_floor` measures the same gap with nothing to do: what
the machine alone costs at that moment.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer


class StallMeter:
    """The longest gap between 5 ms timer ticks: how long the event loop was busy."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.longest_ms = 0
        self.longest_cpu_ms = 0.0
        self.longest_gc_ms = 0.0
        self._cpu = 0.0
        self._gc_started: float | None = None

    def start(self) -> None:
        self.longest_ms = 0
        self.longest_cpu_ms = self.longest_gc_ms = 0.0
        self._cpu = time.thread_time()
        self.clock.start()
        self.timer.start()
        if self._on_gc not in gc.callbacks:
            gc.callbacks.append(self._on_gc)

    def restart(self) -> float:
        """The longest gap so far (s); measure afresh from now."""
        self._tick()
        longest, self.longest_ms = self.longest_ms, 0
        return longest / 1000

    def _tick(self) -> None:
        self.longest_ms = max(self.longest_ms, self.clock.restart())
        cpu = time.thread_time()
        self.longest_cpu_ms = max(self.longest_cpu_ms, (cpu - self._cpu) * 1000)
        self._cpu = cpu

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started is not None:
            pause = (time.perf_counter() - self._gc_started) * 1000
            self.longest_gc_ms = max(self.longest_gc_ms, pause)
            self._gc_started = None

    def stop(self) -> float:
        self.timer.stop()
        self._tick()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        return self.longest_ms / 1000

    def idle_floor(self, ms: int = 300) -> float:
        """The longest gap (s) over ``ms`` with nothing to do: the machine's share."""
        self.start()
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        return self.stop()

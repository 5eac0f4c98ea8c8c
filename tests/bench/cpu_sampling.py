"""Where the CPU went during a benchmark: our processes, their threads, everyone else."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
from benchkit import thread_cpu_ns


class ForeignLoad:
    """CPU the rest of the machine used while a round ran, in % of one CPU.

    The machine's busy time (``/proc/stat``, without interrupts) minus the
    bench's own processes (this one with its server threads and reaped
    children, both aria2c, the app): a parallel test run shows up here and
    explains a slow round. Kernel threads (writeback, ksoftirqd) count as
    others, so it is rarely zero.
    """

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.t0 = time.perf_counter()
        self.busy0, self.ours0 = self._busy_s(), self._ours_s()

    @staticmethod
    def _busy_s() -> float:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        # irq/softirq time is left out: much of it is our own loopback traffic.
        user, nice, system, _idle, _iowait, _irq, _softirq, steal = map(int, fields[:8])
        return (user + nice + system + steal) / os.sysconf("SC_CLK_TCK")

    def _ours_s(self) -> float:
        me = psutil.Process().cpu_times()
        total = me.user + me.system + me.children_user + me.children_system
        for pid in self.pids:
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def stop(self) -> float:
        elapsed = time.perf_counter() - self.t0
        foreign = (self._busy_s() - self.busy0) - (self._ours_s() - self.ours0)
        return max(foreign, 0.0) / elapsed * 100


def all_threads_switches(pid: int) -> int:
    """Context switches of every thread (psutil's process figure is the main thread's)."""
    total = 0
    for thread in psutil.Process(pid).threads():
        try:
            ctx = psutil.Process(thread.id).num_ctx_switches()
        except psutil.Error:
            continue
        total += ctx.voluntary + ctx.involuntary
    return total


def sample_idle(
    pids: dict[str, int], windows: int, window_s: float
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per window: CPU % (schedstat, all threads) and wake-ups/s of each named process."""
    cpu0 = {name: thread_cpu_ns(pid) for name, pid in pids.items()}
    sw0 = {name: all_threads_switches(pid) for name, pid in pids.items()}
    last = time.perf_counter()
    cpu_pct: dict[str, list[float]] = {name: [] for name in pids}
    wakeups: dict[str, list[float]] = {name: [] for name in pids}
    for _ in range(windows):
        time.sleep(window_s)
        now = time.perf_counter()
        for name, pid in pids.items():
            cpu, sw = thread_cpu_ns(pid), all_threads_switches(pid)
            cpu_pct[name].append((cpu - cpu0[name]) / 1e9 / (now - last) * 100)
            wakeups[name].append((sw - sw0[name]) / (now - last))
            cpu0[name], sw0[name] = cpu, sw
        last = now
    return cpu_pct, wakeups

"""(c') Idle cost with the main window shown, next to hidden, in one run.

The primary starts with no downloads and its window hidden (as at login).
After the app and its engine are ready and the icon is shown, the bench

1. lets it settle for 3 s, then measures it **hidden** for 20 s;
2. runs ``main.py --show`` (the IPC ``show`` of a second launch), waits
   until the window is mapped (on the bench X server), lets it settle for
   3 s, then measures it **shown** for 20 s.

Each 20 s is four 5 s windows of per-thread ``schedstat`` run time (ns
resolution, see :func:`benchkit.thread_cpu_ns`); wake-ups are context
switches per second over every thread. RSS and USS are read at the end of
each phase. Targets (issue 3): app CPU ≤ 0.05 % hidden, ≤ 0.5 % shown.

With the window shown the app refreshes its task list about once a second
by design, so the app's threads that ran during the shown phase are listed
by name with their CPU time, and aria2c (which answers those calls) is
measured beside it, for information.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from benchkit import WM_CLASS, Figure, app_home, report, wait_rpc_ready
from cpu_sampling import sample_idle

from support.app_process import wait_until
from support.xserver import XServer

pytestmark = pytest.mark.bench

SETTLE_S = 3.0
WINDOWS = 4
WINDOW_S = 5.0
HIDDEN_CPU_TARGET_PCT = 0.05
SHOWN_CPU_TARGET_PCT = 0.5
MB = 1 / (1024 * 1024)


def _per_thread_ns(pid: int) -> dict[str, int]:
    """Run time in ns of each thread of ``pid``, keyed by a readable thread name.

    Python 3.11 leaves its threads' OS names at the program's, so a thread
    named like the process is "GUI thread" when it is the main one and
    "Python thread <tid>" otherwise; Qt names its own (``QXcbEventQueue``…).
    """
    out: dict[str, int] = {}
    process_name = Path(f"/proc/{pid}/comm").read_text().strip()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            if task.name == str(pid):
                name = "GUI thread"
            elif name == process_name:
                name = f"Python thread {task.name}"
            else:
                name = f"{name} {task.name}"
            out[name] = int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that just ended
    return out


@dataclass
class Phase:
    """What one 20 s measurement saw."""

    cpu_pct: dict[str, list[float]]
    wakeups: dict[str, list[float]]
    rss: dict[str, float]
    uss: float
    busiest_threads: list[tuple[str, float]]  # (thread, % of one CPU over the phase)


def measure(pids: dict[str, int]) -> Phase:
    threads0 = _per_thread_ns(pids["app"])
    t0 = time.perf_counter()
    cpu_pct, wakeups = sample_idle(pids, WINDOWS, WINDOW_S)
    elapsed = time.perf_counter() - t0
    threads1 = _per_thread_ns(pids["app"])
    busiest = sorted(
        (
            (name, (ns - threads0.get(name, 0)) / 1e9 / elapsed * 100)
            for name, ns in threads1.items()
        ),
        key=lambda item: item[1],
        reverse=True,
    )
    memory = {name: psutil.Process(pid).memory_full_info() for name, pid in pids.items()}
    return Phase(
        cpu_pct,
        wakeups,
        {name: float(info.rss) for name, info in memory.items()},
        float(memory["app"].uss),
        [item for item in busiest if item[1] > 0][:6],
    )


def main_window_shown(xserver: XServer) -> list[int]:
    """Mapped windows of the app that are not its tray icon (the main window)."""
    icons = set(xserver.tray_icons(WM_CLASS))
    return [w for w in xserver.search("--class", WM_CLASS) if w not in icons]


def test_idle_window(bench_display: XServer | None, bench_env: dict[str, str]) -> None:
    with app_home(bench_env) as home:
        primary = home.launch()
        wait_rpc_ready(home)
        if bench_display is not None:
            wait_until(lambda: bench_display.tray_icons(WM_CLASS), 20)
            assert not main_window_shown(bench_display), "the window is shown at start"
        time.sleep(SETTLE_S)
        (aria,) = home.aria2c_processes()
        pids = {"app": primary.pid, "aria2c": aria.pid}

        hidden = measure(pids)

        shown_by = home.run("--show", timeout=20)
        assert shown_by.returncode == 0, shown_by.stderr
        if bench_display is not None:
            wait_until(lambda: main_window_shown(bench_display), 20)
        time.sleep(SETTLE_S)
        shown = measure(pids)
        threads = psutil.Process(primary.pid).num_threads()
        assert primary.poll() is None, "the app died while idle"

    rows = [
        Figure("hidden: app CPU, per 5 s", hidden.cpu_pct["app"], HIDDEN_CPU_TARGET_PCT, "%", 1, 4),
        Figure("shown: app CPU, per 5 s", shown.cpu_pct["app"], SHOWN_CPU_TARGET_PCT, "%", 1, 4),
        Figure("hidden: app RSS", [hidden.rss["app"]], None, "MB", MB, 1),
        Figure("shown: app RSS", [shown.rss["app"]], None, "MB", MB, 1),
        Figure("  hidden: app USS", [hidden.uss], None, "MB", MB, 1),
        Figure("  shown: app USS", [shown.uss], None, "MB", MB, 1),
        Figure("  hidden: app wake-ups/s", hidden.wakeups["app"], None, "/s", 1, 2),
        Figure("  shown: app wake-ups/s", shown.wakeups["app"], None, "/s", 1, 2),
        Figure("  hidden: aria2c CPU, per 5 s", hidden.cpu_pct["aria2c"], None, "%", 1, 4),
        Figure("  shown: aria2c CPU, per 5 s", shown.cpu_pct["aria2c"], None, "%", 1, 4),
        Figure("  hidden: aria2c wake-ups/s", hidden.wakeups["aria2c"], None, "/s", 1, 2),
        Figure("  shown: aria2c wake-ups/s", shown.wakeups["aria2c"], None, "/s", 1, 2),
    ]
    platform = "xcb with a tray icon" if bench_display is not None else "offscreen, no tray"

    def busiest(phase: Phase) -> str:
        return ", ".join(f"{name} {pct:.4f} %" for name, pct in phase.busiest_threads) or "none"

    notes = [
        f"platform: {platform}; app threads: {threads}; settle {SETTLE_S:.0f} s per phase",
        f"hidden, app threads that ran: {busiest(hidden)}",
        f"shown, app threads that ran: {busiest(shown)}",
    ]
    report("(c') idle cost, window hidden vs shown", rows, notes)

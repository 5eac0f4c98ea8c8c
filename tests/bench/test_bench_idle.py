"""(c) Idle cost: the primary with no downloads and no window, doing nothing.

After the app and its engine are ready and the icon is shown, the bench
lets it settle for 3 s, then measures for 20 s, in four 5 s windows:

* CPU % of the app: per-thread ``schedstat`` run time (ns resolution);
  psutil's ``cpu_times`` delta over the whole 20 s is shown beside it, but
  it counts 10 ms clock ticks, i.e. steps of 0.05 % over 20 s;
* wake-ups: context switches per second (voluntary + involuntary), the
  usual sign of a timer that should not be running;
* RSS and USS of the app at the end.

aria2c is measured the same way, for information: it wakes once a second
by design (``--stop-with-process``).
"""

from __future__ import annotations

import time

import psutil
import pytest
from benchkit import (
    WM_CLASS,
    Figure,
    app_home,
    report,
    top_mappings,
    wait_rpc_ready,
)
from cpu_sampling import sample_idle

from support.app_process import wait_until
from support.xserver import XServer

pytestmark = pytest.mark.bench

SETTLE_S = 3.0
WINDOWS = 4
WINDOW_S = 5.0
CPU_TARGET_PCT = 0.05
RSS_TARGET_MB = 75.0


def test_idle(bench_display: XServer | None, bench_env: dict[str, str]) -> None:
    with app_home(bench_env) as home:
        primary = home.launch()
        wait_rpc_ready(home)
        if bench_display is not None:
            wait_until(lambda: bench_display.tray_icons(WM_CLASS), 20)
        time.sleep(SETTLE_S)
        app = psutil.Process(primary.pid)
        (aria,) = home.aria2c_processes()
        pids = {"app": app.pid, "aria2c": aria.pid}

        times0 = app.cpu_times()
        t0 = time.perf_counter()
        cpu_pct, wakeups = sample_idle(pids, WINDOWS, WINDOW_S)
        times1 = app.cpu_times()
        elapsed = time.perf_counter() - t0
        ticks_pct = (times1.user + times1.system - times0.user - times0.system) / elapsed * 100
        memory = {name: psutil.Process(pid).memory_full_info() for name, pid in pids.items()}
        threads = app.num_threads()
        biggest = top_mappings(app.pid)
        assert primary.poll() is None, "the app died while idle"

    mb = 1 / (1024 * 1024)
    rows = [
        Figure("app CPU, per 5 s window (schedstat)", cpu_pct["app"], CPU_TARGET_PCT, "%", 1, 4),
        Figure("app CPU over 20 s (psutil cpu_times)", [ticks_pct], CPU_TARGET_PCT, "%", 1, 4),
        Figure("app RSS", [float(memory["app"].rss)], RSS_TARGET_MB / mb, "MB", mb, 1),
        Figure("  app USS", [float(memory["app"].uss)], None, "MB", mb, 1),
        Figure("  app wake-ups (context switches/s)", wakeups["app"], None, "/s", 1, 2),
        Figure("  aria2c CPU, per 5 s window", cpu_pct["aria2c"], None, "%", 1, 4),
        Figure("  aria2c wake-ups (context switches/s)", wakeups["aria2c"], None, "/s", 1, 2),
        Figure("  aria2c RSS", [float(memory["aria2c"].rss)], None, "MB", mb, 1),
    ]
    platform = "xcb with a tray icon" if bench_display is not None else "offscreen, no tray"
    notes = [
        f"platform: {platform}; app threads: {threads}; settle {SETTLE_S:.0f} s",
        "app RSS by mapping: " + ", ".join(f"{name} {size * mb:.1f} MB" for name, size in biggest),
    ]
    report("(c) idle cost", rows, notes)

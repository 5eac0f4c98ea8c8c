"""(d) Quit: exec of ``main.py --quit`` until the last process of the home is gone.

Each run starts the primary in the same home (as a user's restarts do),
waits until its RPC answers and its icon shows, then execs ``--quit`` and
polls until the app (our child: reaped by ``poll()``) and its aria2c (not
ours: a zombie counts as gone) have both ended. When ``--quit`` itself
returns is reported too; it should never return before the app is gone.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from benchkit import WM_CLASS, Figure, LogMarks, app_home, gone, report, wait_rpc_ready

from support.app_process import AppHome, launch_command, wait_until
from support.xserver import XServer

pytestmark = pytest.mark.bench

RUNS = 10
TARGET_S = 1.5
TIMEOUT_S = 20.0
READY = "aria2c ready (app's probe)"
SHUTDOWN_STEPS = {
    "log: quitting": "quitting (--quit)",
    "log: aria2c exited": "aria2c exited",
    "log: app exited": "exited with code",
}


def one_quit(home: AppHome, xserver: XServer | None) -> dict[str, float]:
    primary = home.launch()
    wait_rpc_ready(home)
    if xserver is not None:
        wait_until(lambda: xserver.tray_icons(WM_CLASS), 20)
    # The app's own readiness comes a little after ours: quit a ready app.
    wait_until(lambda: READY in LogMarks.parse(home.log_text(), primary.pid).times, 20)
    (aria,) = home.aria2c_processes()
    wall0 = time.time()
    t0 = time.perf_counter()
    quitter = subprocess.Popen(
        [*launch_command(), "--quit"],
        env=home.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    times: dict[str, float] = {}
    while len(times) < 3:
        now = time.perf_counter() - t0
        if now > TIMEOUT_S:
            for proc in (quitter, primary):
                proc.kill()
                proc.wait()
            pytest.fail(f"--quit did not finish in {TIMEOUT_S} s: {times}")
        if "quit" not in times and quitter.poll() is not None:
            times["quit"] = now
        if "app" not in times and primary.poll() is not None:
            times["app"] = now
        if "aria2c" not in times and gone(aria):
            times["aria2c"] = now
        time.sleep(0.001)
    times["all"] = max(times["app"], times["aria2c"])
    times["quit_rc"] = float(quitter.returncode)
    times["app_rc"] = float(primary.returncode)
    times.update(_log_steps(home, primary.pid, wall0))
    return times


def _log_steps(home: AppHome, pid: int, wall0: float) -> dict[str, float]:
    """Seconds from exec of --quit to the app's own shutdown log lines."""
    marks = LogMarks.parse(home.log_text(), pid, SHUTDOWN_STEPS)
    return {name: stamp - wall0 for name, stamp in marks.times.items()}


def test_quit(bench_display: XServer | None, bench_env: dict[str, str]) -> None:
    with app_home(bench_env) as home:
        runs = [one_quit(home, bench_display) for _ in range(RUNS + 1)][1:]  # 1st: warm-up
        leftovers = home.app_processes() + home.aria2c_processes()

    def samples(key: str) -> list[float]:
        return [r[key] for r in runs if key in r]

    rows = [
        Figure("exec → app and aria2c gone", samples("all"), TARGET_S),
        Figure("  exec → --quit returned", samples("quit"), None),
        Figure("  exec → aria2c gone", samples("aria2c"), None),
        Figure("  exec → app gone", samples("app"), None),
    ]
    rows += [Figure(f"  {name}", samples(name), None) for name in SHUTDOWN_STEPS]
    early = sum(1 for r in runs if r["quit"] < r["aria2c"])
    notes = [
        f"exit codes: --quit {sorted({int(r['quit_rc']) for r in runs})}, "
        f"app {sorted({int(r['app_rc']) for r in runs})}",
        f"--quit returned while aria2c still ran in {early}/{len(runs)} runs",
        f"processes left after the runs: {[p.pid for p in leftovers if not gone(p)]}",
    ]
    report("(d) quit", rows, notes)

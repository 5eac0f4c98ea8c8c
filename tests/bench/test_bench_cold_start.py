"""(a) Cold start: exec of ``main.py`` until RPC answers, and until the tray icon shows.

Measured from just before ``Popen`` (so fork/exec and interpreter start
count) to:

* **RPC ready**: our own authenticated ``aria2.getVersion`` succeeds, with
  the port and secret from the app's conf file;
* **tray shown**: a window of class ``aria-tray`` is mapped (the icon,
  embedded by trayer; checked to sit inside trayer after the run).

Both probes poll in their own thread. The app's log adds a breakdown of
where the time goes, and one extra launch with the import profiler shows
which imports cost most. One unmeasured first start in a brand-new home
comes first (it creates the home); the N measured starts reuse that home,
as a user's every later start does. Python may cache bytecode (see
``bench_env``); N more starts, interleaved with those, run without a
bytecode cache (``PYTHONDONTWRITEBYTECODE=1``, as in some sandboxes) to
show what compiling from source costs. Between runs the app quits via
``--quit`` and the bench waits until no process of the home is left.
"""

from __future__ import annotations

import statistics
import time

import pytest
from benchkit import (
    NO_BYTECODE,
    WM_CLASS,
    Figure,
    LogMarks,
    RpcProbe,
    app_home,
    first_true,
    quit_and_wait,
    report,
    run_with_import_profile,
)

from support.app_process import AppHome, wait_until
from support.xserver import XServer

pytestmark = pytest.mark.bench

RUNS = 10
TARGET_S = 0.5
TIMEOUT_S = 20.0


def one_start(home: AppHome, xserver: XServer | None) -> dict[str, float | None]:
    """Start the primary once; return seconds from exec to each milestone."""
    probe = RpcProbe(home)
    wall0 = time.time()
    t0 = time.perf_counter()
    proc = home.launch()
    rpc = first_true(probe.ready, t0, TIMEOUT_S)
    icon = (
        first_true(lambda: xserver.search("--class", WM_CLASS), t0, TIMEOUT_S)
        if xserver is not None
        else None
    )
    rpc.join()
    if icon is not None:
        icon.join()
        if icon.result is not None:  # type: ignore[attr-defined]
            assert xserver is not None
            embedded = wait_until(lambda: xserver.tray_icons(WM_CLASS), 10)
            assert len(embedded) == 1, embedded
    probe.close()
    result: dict[str, float | None] = {
        "rpc": rpc.result,  # type: ignore[attr-defined]
        "icon": icon.result if icon is not None else None,  # type: ignore[attr-defined]
    }
    # Our probe may beat the app's own; let the app reach "ready" before quitting.
    marks = wait_until(lambda: _ready_marks(home, proc.pid), TIMEOUT_S)
    for name, stamp in marks.times.items():
        result[name] = stamp - wall0
    quit_and_wait(home)
    return result


def test_cold_start(bench_display: XServer | None, bench_env: dict[str, str]) -> None:
    cached = {key: bench_env[key] for key in NO_BYTECODE}
    runs, uncached = [], []
    with app_home(bench_env) as home:
        first = one_start(home, bench_display)  # also fills the bytecode cache
        for _ in range(RUNS):  # interleaved, so both see the same machine load
            home.extra_env.update(cached)
            runs.append(one_start(home, bench_display))
            home.extra_env.update(NO_BYTECODE)
            uncached.append(one_start(home, bench_display))
        home.extra_env.update(cached)
        profile = run_with_import_profile(home, primary=True)
        poll_cost = _icon_poll_cost(bench_display)

    def samples(key: str) -> list[float]:
        return [r[key] for r in runs if r.get(key) is not None]  # type: ignore[misc]

    rows = [
        Figure("exec → RPC ready (our getVersion)", samples("rpc"), TARGET_S),
        Figure("exec → tray icon mapped (xdotool)", samples("icon"), TARGET_S),
    ]
    rows += [Figure(f"  log: exec → {name}", samples(name), None) for name in LogMarks.MARKS]
    rows += [
        Figure(
            f"  no bytecode cache: exec → {what}",
            [r[key] for r in uncached if r.get(key) is not None],  # type: ignore[misc]
            None,
        )
        for key, what in (("rpc", "RPC ready"), ("icon", "tray icon mapped"))
    ]
    launched, app_ready = "aria2c launched", "aria2c ready (app's probe)"
    rows.append(
        Figure(
            "  log: aria2c launched → app's probe ready",
            [r[app_ready] - r[launched] for r in runs if r.get(app_ready) and r.get(launched)],  # type: ignore[operator]
            None,
        )
    )
    notes = [
        f"first start (new home, empty bytecode cache, not counted): RPC ready "
        f"{_ms(first['rpc'])}, icon {_ms(first['icon'])}",
        f"icon probe resolution: one xdotool search ≈ {_ms(poll_cost)}; "
        "log marks have 1 ms resolution",
        f"import profile of one primary start (total {profile.total_ms():.0f} ms, "
        "inflated by the profiler): "
        + ", ".join(f"{name} {ms:.0f} ms" for name, ms in profile.heaviest(8)),
        "QtWidgets imported by the primary: "
        + ("yes" if profile.imported("PySide6.QtWidgets") else "no")
        + "; requests: "
        + ("yes" if profile.imported("requests") else "no"),
    ]
    if bench_display is None:
        notes.append("no X server: the tray column is n/a")
    report("(a) cold start", rows, notes)


def _ready_marks(home: AppHome, pid: int) -> LogMarks | None:
    marks = LogMarks.parse(home.log_text(), pid)
    return marks if len(marks.times) == len(LogMarks.MARKS) else None


def _icon_poll_cost(xserver: XServer | None) -> float | None:
    if xserver is None:
        return None
    costs = []
    for _ in range(5):
        t0 = time.perf_counter()
        xserver.search("--class", WM_CLASS)
        costs.append(time.perf_counter() - t0)
    return statistics.median(costs)


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"

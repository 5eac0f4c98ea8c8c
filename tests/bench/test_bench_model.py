"""Model refresh with 10,000 downloads: GUI-thread time per refresh, and RSS.

Run it either way (it prints figures and asserts nothing about time)::

    pytest tests/bench/bench_model.py -s
    python tests/bench/bench_model.py

The measuring happens in a fresh child process, so RSS is the app's own
(main window, model, proxy, 10,000 rows) and not pytest's. The list is
shaped like a big real one: 20 active downloads whose progress changes at
every refresh, 4,980 queued ones and 5,000 history rows. Every refresh
parses new ``DownloadInfo`` objects for the live rows and runs
``share_unchanged`` on them, exactly as the RPC worker does (timed apart:
it is not GUI time); history rows are the store's cached objects.

GUI-thread time covers everything the GUI thread does for one refresh:
the controller's signal, ``DownloadTableModel.update`` with its
``dataChanged`` signals, the proxy's dynamic re-sort and re-filter, the
window's tab counts and actions, and the repaint of the visible rows (all
20 active rows are in view, so every refresh repaints the whole table).
It is the thread's CPU time, so other processes on a busy machine do not
inflate it; the wall-clock figure is printed next to it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ROWS = 10_000
ACTIVE = 20
HISTORY = 5_000
REFRESHES = 60
TARGET_REFRESH_S = 0.016
TARGET_RSS_MB = 150.0


def _child() -> None:
    """Build the window with 10,000 rows, time refreshes, print JSON."""
    import dataclasses
    import shutil
    import tempfile
    import time

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import psutil
    from PySide6.QtWidgets import QApplication

    from aria2_core.config import EngineSettings
    from aria2_core.history import HistoryFile, HistoryRecord
    from aria2_core.models import DownloadInfo, FileInfo
    from aria2_core.paths import AppPaths
    from aria2_core.task_ops import share_unchanged
    from desktop.controller import Controller
    from desktop.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    rss_before = psutil.Process().memory_info().rss
    home = Path(tempfile.mkdtemp(prefix="at-bench-"))
    paths = AppPaths.for_home(home)
    paths.ensure()
    controller = Controller(paths, EngineSettings(download_dir=home / "dl"))
    controller.history.merge(
        HistoryRecord(
            gid=f"h{n:015x}",
            name=f"finished-file-{n}.iso",
            status="complete" if n % 10 else "error",
            total_length=700_000_000,
            dir="/home/user/Downloads",
            files=(
                HistoryFile(
                    f"/home/user/Downloads/finished-file-{n}.iso",
                    (f"https://mirror.example.org/pub/finished-file-{n}.iso",),
                    700_000_000,
                ),
            ),
            error_message="" if n % 10 else "Resource not found",
            finished_at=1.7e9 + n,
        )
        for n in range(HISTORY)
    )

    def live(n: int, tick: int) -> DownloadInfo:
        active = n < ACTIVE
        done = (tick * 1_000_000 + n * 7_919) % 700_000_000 if active else 0
        return DownloadInfo(
            gid=f"{n:016x}",
            status="active" if active else ("paused" if n % 7 == 0 else "waiting"),
            total_length=700_000_000,
            completed_length=done,
            download_speed=2_000_000 + tick if active else 0,
            connections=8 if active else 0,
            name=f"download-{n}.iso",
            dir="/home/user/Downloads",
            files=[
                FileInfo(
                    1,
                    f"/home/user/Downloads/download-{n}.iso",
                    700_000_000,
                    done,
                    True,
                    (f"https://mirror.example.org/pub/download-{n}.iso",),
                )
            ],
        )

    history_rows = controller.history.downloads()
    template = [live(n, 0) for n in range(ROWS - HISTORY)]

    cache: dict[str, DownloadInfo] = {}
    worker: list[float] = []

    def rows(tick: int) -> list[DownloadInfo]:
        # New objects for every live row, as the RPC worker parses them, then
        # the worker's own share_unchanged() (timed separately: not GUI time).
        nonlocal cache
        fresh = [live(n, tick) for n in range(ACTIVE)]
        fresh += [dataclasses.replace(r) for r in template[ACTIVE:]]
        t0 = time.perf_counter()
        cache = share_unchanged(fresh, cache)
        worker.append(time.perf_counter() - t0)
        return fresh + history_rows

    window = MainWindow(controller)
    window.resize(1100, 700)
    window.show()
    app.processEvents()
    t0 = time.perf_counter()
    controller.downloads_refreshed.emit(rows(0))
    app.processEvents()
    while window.model.inserting:  # the rows go in a chunk per turn: all of them first
        app.processEvents()
    first_load = time.perf_counter() - t0
    assert window.model.rowCount() == ROWS

    # CPU time of this (the GUI) thread: other processes on a busy machine
    # cannot inflate it, unlike wall time, which is recorded too.
    samples: list[float] = []
    wall: list[float] = []
    no_paint: list[float] = []
    model_only: list[float] = []
    for tick in range(1, REFRESHES + 1):
        batch = rows(tick)  # built outside the timing: the worker thread does this
        t0, c0 = time.perf_counter(), time.thread_time()
        controller.downloads_refreshed.emit(batch)
        c1 = time.thread_time()
        app.processEvents()  # the repaint of what changed
        samples.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - t0)
        no_paint.append(c1 - c0)
    for tick in range(REFRESHES + 1, 2 * REFRESHES + 1):
        batch = rows(tick)
        c0 = time.thread_time()
        window.model.update(batch)
        model_only.append(time.thread_time() - c0)
        app.processEvents()
    assert window.model.rowCount() == ROWS
    rss = psutil.Process().memory_info().rss
    print(
        json.dumps(
            {
                "refresh": samples,
                "refresh_wall": wall,
                "refresh_no_paint": no_paint,
                "model_update": model_only,
                "worker_share": worker[1:],
                "first_load": first_load,
                "rss_mb": rss / 2**20,
                "rss_qt_app_mb": rss_before / 2**20,
            }
        )
    )
    window.close()
    controller.stop_now()
    shutil.rmtree(home, ignore_errors=True)


def measure() -> dict[str, object]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _print_plain(data: dict[str, object]) -> None:
    def ms(values: list[float]) -> str:
        ordered = sorted(values)
        p90 = ordered[max(int(0.9 * len(ordered)) - 1, 0)]
        return f"median {statistics.median(values) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms"

    print(f"refresh of {ROWS} rows, GUI-thread CPU: {ms(data['refresh'])} (target ≤ 16 ms)")  # type: ignore[arg-type]
    print(f"  same, wall clock: {ms(data['refresh_wall'])}")  # type: ignore[arg-type]
    print(f"  without the repaint: {ms(data['refresh_no_paint'])}")  # type: ignore[arg-type]
    print(f"  DownloadTableModel.update (+ proxy): {ms(data['model_update'])}")  # type: ignore[arg-type]
    print(f"  (RPC worker, not GUI: share_unchanged {ms(data['worker_share'])})")  # type: ignore[arg-type]
    print(f"first load of {ROWS} rows: {float(data['first_load']) * 1000:.0f} ms")  # type: ignore[arg-type]
    print(
        f"RSS with {ROWS} rows: {float(data['rss_mb']):.0f} MB (target ≤ 150 MB; "  # type: ignore[arg-type]
        f"QApplication alone {float(data['rss_qt_app_mb']):.0f} MB)"  # type: ignore[arg-type]
    )


@pytest.mark.bench
def test_bench_model_refresh_10000() -> None:
    data = measure()
    try:
        from benchkit import Figure, report
    except ImportError:  # benchkit not importable: plain lines are enough
        _print_plain(data)
        return
    report(
        f"Download list with {ROWS:,} tasks (offscreen)",
        [
            Figure("GUI-thread CPU per refresh", data["refresh"], TARGET_REFRESH_S, digits=1),  # type: ignore[arg-type]
            Figure("  same, wall clock", data["refresh_wall"], None, digits=1),  # type: ignore[arg-type]
            Figure("  without the repaint", data["refresh_no_paint"], None, digits=1),  # type: ignore[arg-type]
            Figure("  DownloadTableModel.update (+ proxy)", data["model_update"], None, digits=1),  # type: ignore[arg-type]
            Figure("  worker thread: share_unchanged", data["worker_share"], None, digits=1),  # type: ignore[arg-type]
            Figure("first load, until every row is in (one-off)", [data["first_load"]], None),  # type: ignore[list-item]
            Figure(
                "RSS with the window and 10,000 rows",
                [data["rss_mb"]],  # type: ignore[list-item]
                TARGET_RSS_MB,
                unit="MB",
                scale=1.0,
            ),
        ],
        notes=[f"QApplication alone: {float(data['rss_qt_app_mb']):.0f} MB RSS"],  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        _print_plain(measure())

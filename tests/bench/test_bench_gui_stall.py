"""Does bookkeeping on disk stall the GUI thread? fsync, the ownership lock, history.

Run with ``make bench`` or ``pytest tests/bench/test_bench_gui_stall.py -s``;
it prints figures and asserts nothing about time (issue 8, "Also": move the
per-entry fsyncs and the ownership filelock off the GUI thread, or show that
the GUI thread never stalls more than 16 ms on them).

In-process, like the app: a real :class:`PrimaryApp` (instance lock, IPC
server, controller, real aria2c, tray and UI built) in a private home. The
longest GUI stall is the largest gap between ticks of a 5 ms timer
(:mod:`stall_meter`); every ``os.fsync`` and every ownership-record call is
timed and counted by the thread it ran on, so a figure says whether the
GUI thread did the disk work, and how long each one took.

(a) **doorbell burst**: another process fires 200 ``open`` requests at once
    (one per thread, each its own link, as 200 forwarders would); each is
    journaled with an fsync before its reply. Measured until all are
    answered and the journal is drained into aria2.
(b) **engine restart**: ``_restart_engine`` (what a settings change that
    needs a restart does): the orderly stop (ownership record cleared
    under its file lock), the orphan check, the launch (aria2c's conf
    written, then the record). The record's steps run on the engine's
    record worker (``desktop/engine_record.py``); the conf file's two
    fsyncs are still the GUI thread's.
(c) **downloads finishing**: 40 small files from a local HTTP server
    (another process) until all are in the history (``history.json`` and
    the ledger are written on the RPC worker; the journal's done-markers
    and compaction on the GUI thread).

The links of (a) point at a loopback port that never answers: they queue.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from benchkit import Figure, report
from stall_meter import StallMeter

from aria2_core import ownership
from aria2_core.journal import LinkJournal
from desktop.app import PrimaryApp
from support.app_world import WAIT_MS, AppWorld

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(sys.platform == "win32", reason="AF_UNIX clients, a POSIX HTTP server"),
]

REPO = Path(__file__).resolve().parents[2]
BURST = 200
BURST_ROUNDS = 5
RESTART_ROUNDS = 5
FILES = 40
FILE_ROUNDS = 3
STALL_TARGET_S = 0.016
# A stall is wall-clock time: it holds our own work and any wait for a CPU (the
# burst's 200 client threads share this machine's cores). This figure is ours alone.
CPU_SLICE = "most GUI-thread CPU between two ticks"

# 200 forwarders at once, as threads of one process (each its own connection
# and request): the burst the doorbell must take without EAGAIN.
BURST_CLIENT = r"""
import sys, threading
from desktop.ipc_client import send_request
name, count, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
failures = []
go = threading.Event()
def one(n):
    go.wait()
    try:
        send_request(name, "open", {"items": [f"{base}/f{n:03d}.bin"], "cwd": "/"}, timeout=60)
    except Exception as exc:
        failures.append(repr(exc))
threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
for t in threads:
    t.start()
go.set()
for t in threads:
    t.join()
print("\n".join(failures))
sys.exit(1 if failures else 0)
"""


@dataclass
class DiskWork:
    """Durations of fsyncs and ownership calls, split by the thread that made them."""

    gui: dict[str, list[float]] = field(default_factory=dict)
    worker: dict[str, list[float]] = field(default_factory=dict)
    gui_thread: int = field(default_factory=threading.get_ident)

    def timed(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                where = self.gui if threading.get_ident() == self.gui_thread else self.worker
                where.setdefault(label, []).append(time.perf_counter() - t0)

        return wrapper

    def clear(self) -> None:
        self.gui.clear()
        self.worker.clear()

    def counts(self) -> str:
        gui = ", ".join(f"{k} ×{len(v)}" for k, v in sorted(self.gui.items())) or "none"
        worker = ", ".join(f"{k} ×{len(v)}" for k, v in sorted(self.worker.items())) or "none"
        return f"GUI thread: {gui}; workers: {worker}"


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> DiskWork:
    work = DiskWork()
    monkeypatch.setattr(os, "fsync", work.timed("fsync", os.fsync))
    for name in ("record_started", "clear_record"):  # the engine's calls (not the orphan check's)
        monkeypatch.setattr(ownership, name, work.timed(name, getattr(ownership, name)))
    return work


@pytest.fixture
def primary(world: AppWorld, qtbot: Any) -> Iterator[PrimaryApp]:
    app = world.primary()
    app.start([])
    qtbot.waitUntil(lambda: app.ui is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: app.controller.engine.client is not None, timeout=WAIT_MS)
    yield app


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    """``python -m http.server`` in its own process, serving FILES small files."""
    root = tmp_path / "served"
    root.mkdir()
    for n in range(FILES):
        (root / f"s{n:02d}.bin").write_bytes(os.urandom(4096))
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        found = re.search(r"port (\d+)", proc.stdout.readline())
        assert found, "http.server did not say its port"
        yield f"http://127.0.0.1:{found.group(1)}"
    finally:
        proc.kill()
        proc.wait()


def gui_figures(label: str, work: DiskWork) -> list[Figure]:
    rows = []
    for name, samples in sorted(work.gui.items()):
        rows.append(Figure(f"  {label}: one {name} on the GUI thread", samples, None, digits=2))
    return rows


def longest(samples: dict[str, list[float]]) -> str:
    every = [s for values in samples.values() for s in values]
    return f"{max(every) * 1000:.2f} ms" if every else "-"


def test_bench_gui_stall_on_disk_bookkeeping(
    qtbot: Any,
    world: AppWorld,
    primary: PrimaryApp,
    disk: DiskWork,
    silent_port: int,
    file_server: str,
) -> None:
    meter = StallMeter()
    journal = LinkJournal(world.paths.journal_file)
    controller = primary.controller
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    notes: list[str] = []

    # (c) downloads finishing into the history
    finish_stalls: list[float] = []
    finish_cpu: list[float] = []  # the GUI thread's own CPU in its longest slice
    controller.set_window_visible(True)  # the list refreshes every second
    disk.clear()
    for round_no in range(FILE_ROUNDS):
        in_history = len(controller.history.records())
        controller.submit(
            [f"{file_server}/s{n:02d}.bin" for n in range(FILES)],
            "bench",
            {"dir": str(world.download_dir / f"r{round_no}")},
        )
        meter.start()
        qtbot.waitUntil(
            lambda: len(controller.history.records()) >= in_history + FILES,  # noqa: B023
            timeout=WAIT_MS,
        )
        finish_stalls.append(meter.stop())
        finish_cpu.append(meter.longest_cpu_ms / 1000)
    finish_work = DiskWork(dict(disk.gui), dict(disk.worker))
    notes.append(f"(c) {FILE_ROUNDS}×{FILES} downloads finished: {finish_work.counts()}")
    notes.append(f"(c) longest single call on the GUI thread: {longest(finish_work.gui)}")
    notes.append(
        "(c) its GUI-thread fsyncs are the bench's own Controller.submit (a drop's path, "
        "one per round); history and ledger are written on the RPC worker"
    )

    # (b) engine restarts: stop (record cleared), orphan check, launch (record written)
    restart_stalls: list[float] = []
    restart_cpu: list[float] = []  # the GUI thread's own CPU in its longest slice
    disk.clear()
    for _ in range(RESTART_ROUNDS):
        old_pid = controller.engine.pid
        meter.start()
        controller._restart_engine()
        qtbot.waitUntil(
            lambda: controller.engine.client is not None and controller.engine.pid != old_pid,  # noqa: B023
            timeout=WAIT_MS,
        )
        restart_stalls.append(meter.stop())
        restart_cpu.append(meter.longest_cpu_ms / 1000)
    restart_work = DiskWork(dict(disk.gui), dict(disk.worker))
    notes.append(f"(b) {RESTART_ROUNDS} restarts: {restart_work.counts()}")
    notes.append(f"(b) longest single call on the GUI thread: {longest(restart_work.gui)}")

    # (a) a burst of forwarded links over the doorbell
    burst_stalls: list[float] = []
    burst_cpu: list[float] = []  # the GUI thread's own CPU in its longest slice
    disk.clear()
    for round_no in range(BURST_ROUNDS):
        base = f"http://127.0.0.1:{silent_port}/burst{round_no}"
        meter.start()
        client = subprocess.Popen(
            [sys.executable, "-c", BURST_CLIENT, world.paths.server_name, str(BURST), base],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            qtbot.waitUntil(lambda: client.poll() is not None, timeout=WAIT_MS * 2)  # noqa: B023
            qtbot.waitUntil(lambda: controller.pending_count() == 0, timeout=WAIT_MS)
        finally:
            if client.poll() is None:
                client.kill()
            out, _ = client.communicate()
        burst_stalls.append(meter.stop())
        burst_cpu.append(meter.longest_cpu_ms / 1000)
        assert client.returncode == 0, out
    assert not journal.pending()
    burst_work = DiskWork(dict(disk.gui), dict(disk.worker))
    notes.append(f"(a) {BURST_ROUNDS}×{BURST} opens, all acknowledged: {burst_work.counts()}")
    notes.append(f"(a) longest single call on the GUI thread: {longest(burst_work.gui)}")

    report(
        "GUI thread and disk bookkeeping (fsync, ownership lock, history)",
        [
            Figure(f"(a) longest GUI stall, {BURST} opens at once", burst_stalls, STALL_TARGET_S),
            Figure(f"  (a): {CPU_SLICE}", burst_cpu, None),
            *gui_figures("(a)", burst_work),
            Figure("(b) longest GUI stall, engine restart", restart_stalls, STALL_TARGET_S),
            Figure(f"  (b): {CPU_SLICE}", restart_cpu, None),
            *gui_figures("(b)", restart_work),
            Figure(
                f"(c) longest GUI stall, {FILES} downloads finish", finish_stalls, STALL_TARGET_S
            ),
            Figure(f"  (c): {CPU_SLICE}", finish_cpu, None),
            *gui_figures("(c)", finish_work),
        ],
        notes,
    )

"""Aria Tray next to Persepolis 3.0.1: start-up, then idle CPU and RSS, in one run.

Start-up is measured from just before ``Popen`` to:

* **aria2c listening**: 127.0.0.1:<port> accepts a TCP connection (our port
  from our conf file, theirs from Persepolis' config);
* **RPC ready**: ``aria2.getVersion`` answers (ours authenticated with the
  secret from the conf file; Persepolis sets no secret);
* **doorbell listening** (ours only): the IPC socket accepts a connection.

Ours also gets a breakdown from the app's log (``benchkit.LogMarks``, 1 ms
resolution): exec → QApplication and translators (the first log line, so
it covers interpreter start, the lock and the core imports), → doorbell,
→ aria2c launched, → UI ready (the widget code is imported after the
launch), → the app's own readiness probe.

Runs are interleaved (ours, theirs, ours, …) so machine noise hits both
alike; one unmeasured warm-up start each comes first (Persepolis creates
its config and database then, we create the app home). Both run on the
same X server with a tray (Xvfb + trayer) when one is available.

At rest: after start-up each app sits idle (no downloads, no window of
ours; Persepolis shows its main window, as it does at every start) for a
settling time, then CPU is sampled (schedstat, all threads) over a few
windows and RSS read at the end, for the app process and its aria2c.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from benchkit import (
    Figure,
    LogMarks,
    RpcProbe,
    app_home,
    first_true,
    quit_and_wait,
    report,
    top_mappings,
)
from cpu_sampling import sample_idle
from persepolis import Persepolis, unavailable_reason

from support.app_process import AppHome, read_conf, wait_until
from support.xserver import XServer

pytestmark = pytest.mark.bench

RUNS = 11  # interleaved starts each; the issue asks for at least 7
TIMEOUT_S = 30.0
SETTLE_S = 5.0
IDLE_WINDOWS = 3
IDLE_WINDOW_S = 10.0
TARGET_RATIO = 0.75  # ours ≤ 0.75 × Persepolis, exec → aria2c listening
IDLE_CPU_TARGET = 0.05  # %
IDLE_RSS_TARGET = 75e6  # bytes


def tcp_listening(port: Callable[[], int | None]) -> Callable[[], bool]:
    def probe() -> bool:
        number = port()
        if number is None:
            return False
        with socket.socket() as sock:
            sock.settimeout(0.2)
            return sock.connect_ex(("127.0.0.1", number)) == 0

    return probe


def once_seen(listening: threading.Thread, ready: Callable[[], bool]) -> Callable[[], bool]:
    """``ready``, tried only once ``listening`` has seen the port accept.

    RPC cannot answer before its port accepts. A refused HTTP request every
    2 ms is CPU the bench took from the 2 cores both apps start on; the same
    gate on both sides keeps the probes light and alike.
    """
    return lambda: listening.result is not None and ready()  # type: ignore[attr-defined]


def our_port(home: AppHome) -> Callable[[], int | None]:
    conf = home.home / "engine" / "aria2.conf"

    def port() -> int | None:
        try:
            return int(read_conf(conf)["rpc-listen-port"])
        except (OSError, KeyError, ValueError):
            return None

    return port


def doorbell_listening(home: AppHome) -> Callable[[], bool]:
    path = str(home.home / "ipc.sock")

    def probe() -> bool:
        with socket.socket(socket.AF_UNIX) as sock:
            try:
                sock.connect(path)
            except OSError:
                return False
            return True

    return probe


def our_start(home: AppHome) -> dict[str, float | None]:
    rpc = RpcProbe(home)
    wall0 = time.time()
    t0 = time.perf_counter()
    proc = home.launch()
    listening = first_true(tcp_listening(our_port(home)), t0, TIMEOUT_S)
    threads = {
        "listening": listening,
        "rpc": first_true(once_seen(listening, rpc.ready), t0, TIMEOUT_S),
        "doorbell": first_true(doorbell_listening(home), t0, TIMEOUT_S),
    }
    result = {}
    for name, thread in threads.items():
        thread.join()
        result[name] = thread.result  # type: ignore[attr-defined]
    rpc.close()
    marks = wait_until(lambda: _all_marks(home, proc.pid), TIMEOUT_S)
    for name, stamp in marks.times.items():
        result[f"log: {name}"] = stamp - wall0
    return result


def _all_marks(home: AppHome, pid: int) -> LogMarks | None:
    marks = LogMarks.parse(home.log_text(), pid)
    return marks if len(marks.times) == len(LogMarks.MARKS) else None


def their_start(pers: Persepolis) -> dict[str, float | None]:
    t0 = time.perf_counter()
    pers.launch()
    listening = first_true(pers.listening, t0, TIMEOUT_S)
    threads = {
        "listening": listening,
        "rpc": first_true(once_seen(listening, pers.rpc_ready), t0, TIMEOUT_S),
    }
    result = {}
    for name, thread in threads.items():
        thread.join()
        result[name] = thread.result  # type: ignore[attr-defined]
    return result


def at_rest(pids: dict[str, int]) -> tuple[dict[str, float], dict[str, float]]:
    """Median idle CPU % and final RSS (bytes) of each named process."""
    time.sleep(SETTLE_S)
    cpu, _ = sample_idle(pids, IDLE_WINDOWS, IDLE_WINDOW_S)
    rss = {name: float(psutil.Process(pid).memory_info().rss) for name, pid in pids.items()}
    return {name: statistics.median(v) for name, v in cpu.items()}, rss


def memory_split(pid: int) -> list[str]:
    """Where the app's RSS is: anonymous (Python and Qt heaps) vs mapped files, biggest first."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    anon, files = (int(status[key].split()[0]) / 1000 for key in ("RssAnon", "RssFile"))
    biggest = ", ".join(f"{name} {size / 1e6:.1f}" for name, size in top_mappings(pid, 14))
    return [
        f"Aria Tray app RSS: anonymous {anon:.1f} MB (Python heap, Qt heap, stacks), "
        f"files {files:.1f} MB",
        f"  biggest mappings (MB): {biggest}",
    ]


@pytest.fixture
def persepolis(bench_display: XServer | None) -> Iterator[Persepolis]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    env = bench_display.env() if bench_display is not None else {"QT_QPA_PLATFORM": "offscreen"}
    pers = Persepolis(env)
    try:
        yield pers
    finally:
        pers.remove()


def test_start_up_and_rest_next_to_persepolis(
    bench_env: dict[str, str], persepolis: Persepolis
) -> None:
    ours: dict[str, list[float]] = {"listening": [], "rpc": [], "doorbell": []}
    ours.update({f"log: {name}": [] for name in LogMarks.MARKS})
    theirs: dict[str, list[float]] = {"listening": [], "rpc": []}
    with app_home(bench_env) as home:
        # Warm-up: each creates its home/config once, unmeasured.
        our_start(home)
        quit_and_wait(home)
        their_start(persepolis)
        persepolis.stop()
        for _ in range(RUNS):
            for name, value in our_start(home).items():
                if value is not None:
                    ours[name].append(value)
            quit_and_wait(home)
            for name, value in their_start(persepolis).items():
                if value is not None:
                    theirs[name].append(value)
            persepolis.stop()

        # At rest, one after the other (never both at once).
        our_start(home)
        app = wait_until(lambda: home.app_processes(), TIMEOUT_S)[0]
        engine = wait_until(lambda: home.aria2c_processes(), TIMEOUT_S)[0]
        our_cpu, our_rss = at_rest({"app": app.pid, "aria2c": engine.pid})
        where = memory_split(app.pid)
        quit_and_wait(home)
    their_start(persepolis)
    gui = wait_until(persepolis.gui_process, TIMEOUT_S)
    their_engine = wait_until(persepolis.aria2c_process, TIMEOUT_S)
    their_cpu, their_rss = at_rest({"app": gui.pid, "aria2c": their_engine.pid})
    persepolis.stop()

    theirs_listen = statistics.median(theirs["listening"]) if theirs["listening"] else None
    target = theirs_listen * TARGET_RATIO if theirs_listen is not None else None
    rows = [
        Figure("Aria Tray: exec → aria2c listening", ours["listening"], target),
        Figure("Persepolis: exec → aria2c listening", theirs["listening"], None),
        Figure("Aria Tray: exec → RPC ready", ours["rpc"], None),
        Figure("Persepolis: exec → RPC ready", theirs["rpc"], None),
        Figure("Aria Tray: exec → doorbell listening", ours["doorbell"], None),
    ]
    rows += [
        Figure(f"  Aria Tray, log: exec → {name.removeprefix('log: ')}", ours[name], None)
        for name in ours
        if name.startswith("log: ")
    ]
    rest = [
        Figure("Aria Tray app: idle CPU", [our_cpu["app"]], IDLE_CPU_TARGET, "%", 1, 3),
        Figure("Persepolis app: idle CPU", [their_cpu["app"]], None, "%", 1, 3),
        Figure("Aria Tray aria2c: idle CPU", [our_cpu["aria2c"]], None, "%", 1, 3),
        Figure("Persepolis aria2c: idle CPU", [their_cpu["aria2c"]], None, "%", 1, 3),
        Figure("Aria Tray app: RSS", [our_rss["app"]], IDLE_RSS_TARGET, "MB", 1e-6, 1),
        Figure("Persepolis app: RSS", [their_rss["app"]], None, "MB", 1e-6, 1),
        Figure("Aria Tray aria2c: RSS", [our_rss["aria2c"]], None, "MB", 1e-6, 1),
        Figure("Persepolis aria2c: RSS", [their_rss["aria2c"]], None, "MB", 1e-6, 1),
    ]
    notes = [f"{RUNS} interleaved starts each (ours, theirs, …) after one warm-up each"]
    for metric in ("listening", "rpc"):
        if ours[metric] and theirs[metric]:
            ratio = statistics.median(ours[metric]) / statistics.median(theirs[metric])
            notes.append(f"ratio ours/Persepolis, exec → {metric}: {ratio:.2f}×")
    notes.append(
        f"at rest: settle {SETTLE_S:g} s, then {IDLE_WINDOWS} × {IDLE_WINDOW_S:g} s windows; "
        "CPU is the median window"
    )
    report("Aria Tray vs Persepolis 3.0.1: start-up", rows, notes)
    report("Aria Tray vs Persepolis 3.0.1: at rest", rest, where)
    assert len(ours["listening"]) == RUNS and len(theirs["listening"]) == RUNS

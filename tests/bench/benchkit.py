"""Shared pieces of the benchmarks: homes that clean up, probes, figures, tables.

The benchmarks measure; they assert nothing about time. Every figure is
printed with its median and p90 next to the target it is meant to meet, and
collected for one combined table at the end of the run (see conftest.py).

Probes look at the app from outside, as a user or a script would:
"RPC ready" is our own authenticated ``aria2.getVersion`` with the port and
secret from the app's private conf file, never the app's word for it.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import psutil

from aria2_core.errors import AriaTrayError
from aria2_core.rpc import Aria2Client
from support.app_process import AppHome, launch_command, read_conf, wait_until

WM_CLASS = "aria-tray"

# Launch environment that makes Python compile every module from source at
# every start, as ``PYTHONDONTWRITEBYTECODE=1`` does in some sandboxes.
NO_BYTECODE = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": ""}


# -- figures ----------------------------------------------------------------
def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile (no interpolation: it is a value we measured)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


@dataclass
class Figure:
    """One row of a comparison table: a metric, its samples, its target."""

    metric: str
    samples: list[float]
    target: float | None  # None: informative only
    unit: str = "ms"
    scale: float = 1000.0  # samples are seconds; show ms by default
    digits: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p90(self) -> float:
        return p90(self.samples)

    def fmt(self, value: float) -> str:
        return f"{value * self.scale:.{self.digits}f} {self.unit}"

    def meets_target(self) -> bool | None:
        if self.target is None or not self.samples:
            return None
        return self.median <= self.target

    def cells(self) -> list[str]:
        if not self.samples:
            return [self.metric, "n/a", "n/a", self._target_cell()]
        return [
            f"{self.metric} (N={len(self.samples)})",
            self.fmt(self.median),
            self.fmt(self.p90),
            self._target_cell(),
        ]

    def _target_cell(self) -> str:
        if self.target is None:
            return "-"
        return "≤ " + self.fmt(self.target)


ALL_FIGURES: list[tuple[str, Figure]] = []


def render_table(rows: list[Figure], title: str = "") -> str:
    header = ["metric", "median", "p90", "target"]
    lines = [header] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(4)]

    def fmt(line: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |"

    out = [f"\n{title}"] if title else []
    out.append(fmt(header))
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += [fmt(line) for line in lines[1:]]
    judged = [(row.metric, row.meets_target()) for row in rows]
    over = [name for name, ok in judged if ok is False]
    within = [name for name, ok in judged if ok is True]
    if within or over:
        out.append(
            f"median within target: {', '.join(within) or 'none'}; "
            f"over target: {', '.join(over) or 'none'}"
        )
    return "\n".join(out)


def report(title: str, rows: list[Figure], notes: list[str] | None = None) -> None:
    """Print ``rows`` as a table (plus notes) and keep them for the final summary."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    for note in [*(notes or []), f"load average {load} on {os.cpu_count()} CPUs"]:
        print(f"  {note}")
    print(render_table(rows, title), flush=True)
    ALL_FIGURES.extend((title, row) for row in rows)


# -- app homes ----------------------------------------------------------------
@contextmanager
def app_home(extra_env: dict[str, str]) -> Iterator[AppHome]:
    """A fresh app home; at the end quit, kill what is left by PID, and delete it."""
    home = AppHome.create()
    home.mark_first_run_done()  # a returning user's start, window hidden, as at login
    home.extra_env.update(extra_env)
    try:
        yield home
    finally:
        if home.app_processes():
            with suppress(Exception):
                home.run("--quit", timeout=20)
        home.kill_everything()
        shutil.rmtree(home.home, ignore_errors=True)


class AtLeast(Figure):
    """A figure whose target is a floor (throughput, ratios), not a ceiling."""

    def meets_target(self) -> bool | None:
        if self.target is None or not self.samples:
            return None
        return self.median >= self.target

    def _target_cell(self) -> str:
        return "-" if self.target is None else "≥ " + self.fmt(self.target)


class RpcProbe:
    """Authenticated ``aria2.getVersion`` with the conf file's current port and secret.

    The conf file is rewritten at every engine start, so it is re-read on
    every try: a stale one (the previous run's) only fails a try.
    """

    def __init__(self, home: AppHome) -> None:
        self._conf = home.home / "engine" / "aria2.conf"
        self._client: Aria2Client | None = None
        self._key: tuple[int, str] | None = None

    def _current_client(self) -> Aria2Client | None:
        try:
            conf = read_conf(self._conf)
        except OSError:
            return None
        try:
            key = (int(conf["rpc-listen-port"]), conf["rpc-secret"])
        except (KeyError, ValueError):
            return None
        if key != self._key:
            self.close()
            self._client, self._key = Aria2Client(*key, timeout=1.0), key
        return self._client

    def ready(self) -> bool:
        client = self._current_client()
        if client is None:
            return False
        try:
            client.call("aria2.getVersion", timeout=0.5)
        except AriaTrayError:
            return False
        return True

    def client(self) -> Aria2Client:
        client = self._current_client()
        assert client is not None, "no aria2 conf file yet"
        return client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def first_true(
    predicate: Callable[[], object], t0: float, timeout: float, interval: float = 0.002
) -> threading.Thread:
    """Poll ``predicate`` in a thread; its ``result`` is seconds from ``t0`` to success.

    Two probes in two threads do not delay each other, so each figure is as
    sharp as its own probe allows.
    """

    def run() -> None:
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if predicate():
                thread.result = time.perf_counter() - t0  # type: ignore[attr-defined]
                return
            time.sleep(interval)

    thread = threading.Thread(target=run, daemon=True)
    thread.result = None  # type: ignore[attr-defined]
    thread.start()
    return thread


def wait_rpc_ready(home: AppHome, timeout: float = 20.0) -> None:
    probe = RpcProbe(home)
    try:
        wait_until(probe.ready, timeout, interval=0.01)
    finally:
        probe.close()


def gone(proc: psutil.Process) -> bool:
    """Exited, or a zombie (its parent, possibly a non-reaping PID 1, has yet to reap it)."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def quit_and_wait(home: AppHome, timeout: float = 30.0) -> None:
    """``--quit``, then wait until no process of the home is left (and reap ours)."""
    home.run("--quit", timeout=timeout)
    wait_until(lambda: not home.app_processes() and not home.aria2c_processes(), timeout)
    for popen in home.launched:
        with suppress(subprocess.TimeoutExpired):
            popen.wait(5)


class BlackHole:
    """A loopback TCP server that accepts connections and never answers.

    A download from it stays active (or waiting) in aria2 for a minute,
    so a bench can see it there; a refused URL would fail at once, and the
    app moves failed results out of aria2 into its history.
    """

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._conns: list[socket.socket] = []
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/{name}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)

    def close(self) -> None:
        self._closed = True
        self._sock.close()
        for conn in self._conns:
            conn.close()
        self._thread.join(5)

    def __enter__(self) -> BlackHole:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# -- reading what the app wrote -----------------------------------------------
@dataclass
class LogMarks:
    """Wall-clock times of start-up milestones in the app log (ms resolution)."""

    times: dict[str, float] = field(default_factory=dict)

    # In start-up order (ARCHITECTURE.md): lock, QApplication + translators
    # (the first line the log gets), doorbell, aria2c launched, then the UI.
    MARKS: ClassVar[dict[str, str]] = {
        "QApplication + translators": "aria_tray.i18n: UI language",
        "IPC listening": "listening for other launches",
        "primary started": "primary started",
        "aria2c launched": "aria_tray.engine: starting ",
        "UI ready": "aria_tray.app: UI ready",
        "aria2c ready (app's probe)": "aria2c ready:",
    }

    @classmethod
    def parse(cls, log_text: str, pid: int, wanted: dict[str, str] | None = None) -> LogMarks:
        """The first line of process ``pid`` containing each needle of ``wanted``."""
        marks = cls()
        for line in log_text.splitlines():
            parts = line.split(" ", 3)
            if len(parts) < 4 or parts[2] != str(pid):
                continue
            for name, needle in (wanted or cls.MARKS).items():
                if name not in marks.times and needle in line:
                    stamp = datetime.strptime(f"{parts[0]} {parts[1]}", "%Y-%m-%d %H:%M:%S,%f")
                    marks.times[name] = stamp.timestamp()
        return marks


@dataclass
class ImportProfile:
    """What ``PYTHONPROFILEIMPORTTIME=1`` printed: modules and their cumulative µs."""

    rows: list[tuple[int, int, str]]  # (depth, cumulative µs, module)

    @classmethod
    def parse(cls, stderr: str) -> ImportProfile:
        rows = []
        for line in stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            _, _, rest = line.partition(":")
            _self_us, cumulative, name = rest.split("|", 2)
            stripped = name.lstrip(" ")
            depth = (len(name) - len(stripped) - 1) // 2
            rows.append((depth, int(cumulative), stripped.strip()))
        return cls(rows)

    @property
    def modules(self) -> set[str]:
        return {name for _, _, name in self.rows}

    def imported(self, prefix: str) -> bool:
        return any(m == prefix or m.startswith(prefix + ".") for m in self.modules)

    def total_ms(self) -> float:
        return sum(cum for depth, cum, _ in self.rows if depth == 0) / 1000

    def heaviest(self, n: int = 8, max_depth: int = 1) -> list[tuple[str, float]]:
        picked = [(name, cum / 1000) for depth, cum, name in self.rows if depth <= max_depth]
        return sorted(picked, key=lambda item: item[1], reverse=True)[:n]


def run_with_import_profile(
    home: AppHome, *args: str, primary: bool = False, timeout: float = 30.0
) -> ImportProfile:
    """Run ``main.py args`` once with the import profiler on; return its profile.

    With ``primary=True`` the launch becomes the primary: wait until its RPC
    answers, then ``--quit`` it. Its stderr goes to a file, not a pipe, so a
    long profile can never block it.
    """
    env = home.env()
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    err_path = home.home / f"importtime-{len(home.launched)}.txt"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(
            [*launch_command(), *args], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
    home.launched.append(proc)
    if primary:
        wait_rpc_ready(home, timeout)
        quit_and_wait(home, timeout)
    proc.wait(timeout)
    return ImportProfile.parse(err_path.read_text(errors="replace"))


def thread_cpu_ns(pid: int) -> int:
    """CPU time of every thread of ``pid`` in ns (schedstat), far finer than clock ticks.

    Raises ``OSError`` when no thread could be read, rather than report a
    false zero.
    """
    total, read = 0, 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
            read += 1
        except (OSError, ValueError, IndexError):
            continue  # a thread that just ended
    if not read:
        raise OSError(f"no readable /proc/{pid}/task/*/schedstat")
    return total


def top_mappings(pid: int, n: int = 8) -> list[tuple[str, int]]:
    """The ``n`` mapped files (or [anon]/[heap]) holding most of ``pid``'s RSS, in bytes."""
    sizes: dict[str, int] = {}
    for mapping in psutil.Process(pid).memory_maps(grouped=True):
        name = Path(mapping.path).name if mapping.path.startswith("/") else mapping.path
        sizes[name or "[anon]"] = sizes.get(name or "[anon]", 0) + mapping.rss
    return sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:n]

"""(e) Throughput: a 1 GiB file over loopback, through the app vs raw aria2c.

One local HTTP server (:mod:`support.http_server`, no throttle) serves a
1 GiB file. Two engines download it in five interleaved pairs in the same
run, the order rotating from pair to pair so neither always inherits the
other's page cache and writeback:

* **raw**: a plain aria2c, the *same binary* the app runs, started with a
  conf file copied from the app's own ``aria2.conf`` (split,
  max-connection-per-server, file-allocation, continue, auto-save and
  session intervals, …); only its paths, RPC port and secret are its own.
  Timed from ``aria2.addUri`` until the file is complete.
* **app**: ``main.py URL`` handed to the running primary (window hidden,
  as after a click on a link), which downloads into its
  ``ARIA_TRAY_DOWNLOAD_DIR``. Timed from the exec of that launch until the
  file is complete.

"Complete" is read from the disk, the same way for both: the file has its
full size and aria2's ``.aria2`` control file, seen while it ran, is gone.
The app moves a finished download into ``history.json`` within a second or
two; the bench waits for that before the next round, so the app's
bookkeeping never overlaps a raw round. Every download is then checked
block by block against the source (each 4 MiB block carries its index, so
a mixed-up range would show) and deleted, and the page cache is synced.

Before the first round the bench checks that both aria2c report the same
``aria2.getGlobalOption`` apart from paths, port and owner pid.

Reported: MB/s (10^6 bytes/s) end to end, and the headline: the median of
the five pairs' ratios app/raw (target ≥ 95 %) with their spread (lowest
and highest pair); a pair's rounds run back to back, so a burst of load
from elsewhere hits one pair, not one side.

**The noise floor, in the same run.** Each pair also has a *control*
round: a second raw aria2c, started the same way with the same conf but
its own process and folder, downloads the same file. Its ratio to the raw
round (an A/A comparison) shows how far two identical engines drift apart
here, process and folder included, as app and raw differ in both; a gap
between app and raw smaller than that spread is not told apart from noise
by five pairs. The three rounds rotate (raw, app, control | app,
control, raw | control, raw, app | …). For information, the
transfer alone (from the moment the file appears on disk), how long each
took to start (the app's figure is the forwarding launch: at ~500 MB/s a 1
GiB round lasts ~2 s, so its ~80 ms weigh ~4 % in the end-to-end ratio),
the CPU time each aria2c spent on the GiB, the CPU that *other* processes
used during the rounds (a parallel test run on a 2-CPU machine easily
moves a round by 20 %), and the app's own CPU while its download ran.

The server is Python in this process, but an unthrottled body goes out
by ``sendfile``: the kernel copies it, so aria2c (about one CPU-second per
GiB here) sets the ceiling rather than the server, and the two no longer
fight over the CPUs. aria2c's own CPU time for the same GiB still varies by
a third from round to round on a shared VM; the A/A control shows what that
does to five pairs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from benchkit import AtLeast, Figure, app_home, report, thread_cpu_ns, wait_rpc_ready
from cpu_sampling import ForeignLoad

from aria2_core.config import write_private_file
from aria2_core.errors import AriaTrayError
from aria2_core.ports import pick_free_port
from aria2_core.rpc import Aria2Client
from support.app_process import AppHome, launch_command, read_conf, wait_until
from support.http_server import FileServer

pytestmark = pytest.mark.bench

GIB = 1024**3
BLOCK = 4 * 1024 * 1024
SIZE = 1 * GIB
NAME = "big.bin"
PAIRS = 5
RATIO_TARGET = 0.95
MIN_FREE = 4 * GIB
RUN_TIMEOUT_S = 90.0
POLL_S = 0.005

# What in the app's conf is about this one aria2c rather than how it downloads.
OWN_KEYS = ("dir", "rpc-listen-port", "rpc-secret", "input-file", "save-session")
# ... and what else differs in aria2.getGlobalOption between two such aria2c.
PER_PROCESS_OPTIONS = (*OWN_KEYS, "conf-path", "stop-with-process")


# -- the file -------------------------------------------------------------------
def block(index: int, base: bytes) -> bytes:
    """Block ``index`` of the payload: random bytes stamped with their index."""
    return struct.pack("<Q", index) + base[8:]


def make_source(path: Path, base: bytes) -> None:
    with path.open("wb") as out:
        for index in range(SIZE // BLOCK):
            out.write(block(index, base))


def verify(path: Path, base: bytes) -> None:
    """The download equals the source, block by block (from the page cache: fast)."""
    assert path.stat().st_size == SIZE, f"{path} has {path.stat().st_size} bytes"
    with path.open("rb") as src:
        for index in range(SIZE // BLOCK):
            assert src.read(BLOCK) == block(index, base), f"{path}: block {index} differs"


# -- timing one download --------------------------------------------------------
@dataclass
class Run:
    started_s: float  # from t0 until the file appears on disk
    total_s: float  # from t0 until it is complete
    exited_s: float | None = None  # from t0 until the launch process exited (app runs)
    engine_cpu_s: float = 0.0  # CPU time aria2c used meanwhile
    foreign_pct: float = 0.0  # CPU of processes other than ours meanwhile, % of one CPU

    @property
    def mb_s(self) -> float:
        return SIZE / self.total_s / 1e6

    @property
    def transfer_mb_s(self) -> float:
        return SIZE / (self.total_s - self.started_s) / 1e6


def wait_complete(
    out: Path, t0: float, what: str, launch: subprocess.Popen[bytes] | None = None
) -> Run:
    """Poll the disk until ``out`` is complete; times are seconds from ``t0``.

    With ``launch``, also note when that process exited.
    """
    control = out.with_name(out.name + ".aria2")
    started = seen_control = exited = None
    deadline = t0 + RUN_TIMEOUT_S
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        if launch is not None and exited is None and launch.poll() is not None:
            exited = now - t0
        if control.exists():
            seen_control = True
        try:
            size = out.stat().st_size
        except FileNotFoundError:
            size = None
        if size is not None and started is None:
            started = now - t0
        if seen_control and size == SIZE and not control.exists():
            assert started is not None
            return Run(started, now - t0, exited)
        time.sleep(POLL_S)
    raise TimeoutError(f"{what}: {out} not complete after {RUN_TIMEOUT_S:.0f} s")


def remove_download(out: Path) -> None:
    for path in (out, out.with_name(out.name + ".aria2")):
        path.unlink(missing_ok=True)
    os.sync()  # the next round must not pay for this one's writeback


# -- raw aria2c with the app's options -------------------------------------------
class RawAria2c:
    """``aria2c --conf-path=<copy of the app's conf>``, with its own paths, port and secret."""

    def __init__(self, binary: str, app_conf: dict[str, str], base: Path) -> None:
        self.binary, self.app_conf, self.base = binary, app_conf, base
        self.dir = base / "downloads"
        self.others: list[int] = []  # the app and its aria2c, idle meanwhile but ours
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: Aria2Client | None = None

    def start(self) -> RawAria2c:
        self.dir.mkdir(parents=True, exist_ok=True)
        session = self.base / "session.txt"
        session.touch()
        for _attempt in range(3):  # a port picked free may be taken before aria2c binds it
            port, secret = pick_free_port(), secrets.token_hex(16)
            conf = {
                **self.app_conf,
                "dir": str(self.dir),
                "rpc-listen-port": str(port),
                "rpc-secret": secret,
                "input-file": str(session),
                "save-session": str(session),
            }
            conf_path = self.base / "aria2.conf"
            write_private_file(conf_path, "".join(f"{k}={v}\n" for k, v in conf.items()))
            with (self.base / "aria2c.log").open("ab") as log:
                self.proc = subprocess.Popen(
                    [self.binary, f"--conf-path={conf_path}", f"--stop-with-process={os.getpid()}"],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.base,
                )
            self.client = Aria2Client(port, secret, timeout=5.0)
            if self._ready():
                return self
            self.stop()
        raise RuntimeError(f"raw aria2c did not start: {(self.base / 'aria2c.log').read_text()}")

    def _ready(self) -> bool:
        assert self.proc is not None and self.client is not None
        deadline = time.monotonic() + 10
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                self.client.call("aria2.getVersion", timeout=0.5)
                return True
            except AriaTrayError:
                time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def download(self, url: str) -> Run:
        assert self.client is not None
        assert self.proc is not None
        out = self.dir / NAME
        load = ForeignLoad([self.proc.pid, *self.others])
        cpu0 = thread_cpu_ns(self.proc.pid)
        t0 = time.perf_counter()
        self.client.add_uri([url])
        run = wait_complete(out, t0, "raw aria2c")
        run.engine_cpu_s = (thread_cpu_ns(self.proc.pid) - cpu0) / 1e9
        run.foreign_pct = load.stop()
        return run


# -- the app -------------------------------------------------------------------
def app_download(
    home: AppHome, app_pid: int, engine_pid: int, others: list[int], url: str
) -> tuple[Run, float]:
    """``main.py url`` to the primary; returns the run and the app's CPU % during it."""
    out = home.download_dir / NAME
    load = ForeignLoad([app_pid, engine_pid, *others])
    cpu0, engine0 = thread_cpu_ns(app_pid), thread_cpu_ns(engine_pid)
    t0 = time.perf_counter()
    launch = subprocess.Popen(
        [*launch_command(), url],
        env=home.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    home.launched.append(launch)
    run = wait_complete(out, t0, "the app", launch)
    cpu_pct = (thread_cpu_ns(app_pid) - cpu0) / 1e9 / run.total_s * 100
    run.engine_cpu_s = (thread_cpu_ns(engine_pid) - engine0) / 1e9
    code = launch.wait(30)
    assert code == 0, f"main.py {url} exited with {code}"
    run.foreign_pct = load.stop()  # after the wait: the launch is then a reaped child
    # The app moves a finished download into its history: let it, before the next round.
    history = home.home / "history.json"
    wait_until(lambda: history.exists() and url in history.read_text(errors="replace"), 20)
    return run, cpu_pct


# -- the bench -------------------------------------------------------------------
def test_throughput(bench_env: dict[str, str], tmp_path: Path) -> None:
    needed_on = {tempfile.gettempdir(), str(tmp_path)}
    for folder in needed_on:
        free = shutil.disk_usage(folder).free
        if free < MIN_FREE:
            pytest.skip(f"only {free / GIB:.1f} GiB free in {folder}; the bench needs 4 GiB")

    base = os.urandom(BLOCK)
    served = tmp_path / "served"
    served.mkdir()
    source = served / NAME
    outputs: list[Path] = []
    raw: RawAria2c | None = None
    control: RawAria2c | None = None
    try:
        made = time.perf_counter()
        make_source(source, base)
        made = time.perf_counter() - made
        with FileServer(served) as server, app_home(bench_env) as home:
            primary = home.launch()
            wait_rpc_ready(home)
            (engine,) = home.aria2c_processes()
            app_conf = {
                k: v
                for k, v in read_conf(home.home / "engine" / "aria2.conf").items()
                if k not in OWN_KEYS
            }
            raw = RawAria2c(engine.exe(), app_conf, tmp_path / "raw").start()
            control = RawAria2c(engine.exe(), app_conf, tmp_path / "control").start()
            assert raw.proc is not None and raw.client is not None
            assert control.proc is not None
            raw.others = [primary.pid, engine.pid, control.proc.pid]
            control.others = [primary.pid, engine.pid, raw.proc.pid]
            with home.rpc() as app_client:
                app_options = app_client.call("aria2.getGlobalOption")
            raw_options = raw.client.call("aria2.getGlobalOption")
            differ = {
                key: (app_options.get(key), raw_options.get(key))
                for key in set(app_options) | set(raw_options)
                if key not in PER_PROCESS_OPTIONS and app_options.get(key) != raw_options.get(key)
            }
            assert not differ, f"raw aria2c runs with other options than the app's: {differ}"
            outputs = [raw.dir / NAME, control.dir / NAME, home.download_dir / NAME]

            def engine_round(engine_b: RawAria2c, query: str) -> Run:
                """One download by a raw aria2c, checked block by block, then deleted."""
                run = engine_b.download(server.url(NAME) + query)
                verify(engine_b.dir / NAME, base)
                remove_download(engine_b.dir / NAME)
                return run

            raw_runs: list[Run] = []
            control_runs: list[Run] = []
            app_runs: list[Run] = []
            app_cpu: list[float] = []
            for pair in range(PAIRS):

                def raw_round(pair: int = pair) -> None:
                    assert raw is not None
                    raw_runs.append(engine_round(raw, f"?pair={pair}"))

                def control_round(pair: int = pair) -> None:
                    assert control is not None
                    control_runs.append(engine_round(control, f"?pair={pair}&c"))

                def app_round(pair: int = pair) -> None:
                    assert raw is not None and raw.proc is not None
                    assert control is not None and control.proc is not None
                    url = server.url(NAME) + f"?pair={pair}&via=app"
                    others = [raw.proc.pid, control.proc.pid]
                    run, cpu = app_download(home, primary.pid, engine.pid, others, url)
                    app_runs.append(run)
                    app_cpu.append(cpu)
                    verify(home.download_dir / NAME, base)
                    remove_download(home.download_dir / NAME)

                rounds = (raw_round, app_round, control_round)
                for step in range(len(rounds)):
                    rounds[(pair + step) % len(rounds)]()
            assert primary.poll() is None, "the app died during the bench"
    finally:
        for engine_b in (raw, control):
            if engine_b is not None:
                engine_b.stop()
        for path in [source, *outputs]:
            for leftover in (path, path.with_name(path.name + ".aria2")):
                leftover.unlink(missing_ok=True)

    raw_mb = [r.mb_s for r in raw_runs]
    app_mb = [r.mb_s for r in app_runs]
    ratio = statistics.median(app_mb) / statistics.median(raw_mb)
    per_pair = [a / r for a, r in zip(app_mb, raw_mb, strict=True)]
    control_pair = [c.mb_s / r for c, r in zip(control_runs, raw_mb, strict=True)]

    def transfer_ratios(runs: list[Run]) -> list[float]:
        return [x.transfer_mb_s / r.transfer_mb_s for x, r in zip(runs, raw_runs, strict=True)]

    def pct(label: str, values: list[float], target: float | None = None) -> AtLeast:
        return AtLeast(label, values, target, "%", 100, 1)

    def rate(label: str, values: list[float]) -> AtLeast:
        return AtLeast(label, values, None, "MB/s", 1, 0)

    rows = [
        rate("raw aria2c: addUri → complete", raw_mb),
        rate("app: exec `main.py URL` → complete", app_mb),
        pct("app / raw, median of the pairs' ratios", per_pair, RATIO_TARGET),
        pct("  app / raw, ratio of the medians", [ratio]),
        pct("  control / raw (A/A: two raw aria2c), pairs' ratios", control_pair),
        pct("  app / raw, transfer only, pairs' ratios", transfer_ratios(app_runs)),
        pct("  control / raw, transfer only, pairs' ratios", transfer_ratios(control_runs)),
        rate("  raw: transfer only (file on disk → complete)", [r.transfer_mb_s for r in raw_runs]),
        rate("  app: transfer only (file on disk → complete)", [r.transfer_mb_s for r in app_runs]),
        Figure("  raw: addUri → file on disk", [r.started_s for r in raw_runs], None),
        Figure("  app: exec → file on disk", [r.started_s for r in app_runs], None),
        Figure(
            "  app: exec → `main.py URL` exited",
            [r.exited_s for r in app_runs if r.exited_s is not None],
            None,
        ),
        Figure("  raw: aria2c CPU time for the GiB", [r.engine_cpu_s for r in raw_runs], None),
        Figure("  app: aria2c CPU time for the GiB", [r.engine_cpu_s for r in app_runs], None),
        Figure(
            "  raw: other processes' CPU meanwhile",
            [r.foreign_pct for r in raw_runs],
            None,
            "%",
            1,
            0,
        ),
        Figure(
            "  app: other processes' CPU meanwhile",
            [r.foreign_pct for r in app_runs],
            None,
            "%",
            1,
            0,
        ),
        Figure("  app: app's own CPU while downloading", app_cpu, None, "%", 1, 2),
    ]
    options = ", ".join(
        f"{k}={app_conf[k]}"
        for k in ("split", "max-connection-per-server", "file-allocation", "continue")
        if k in app_conf
    )
    notes = [
        f"1 GiB, {PAIRS} interleaved pairs, each with an A/A control round (raw, app, control "
        f"| app, control, raw | …); app's options: {options}",
        f"app / raw per pair: median {statistics.median(per_pair) * 100:.1f} %, spread "
        f"{min(per_pair) * 100:.1f}–{max(per_pair) * 100:.1f} % "
        "(lowest–highest pair): " + ", ".join(f"{r * 100:.0f} %" for r in per_pair),
        f"source written in {made:.1f} s; server: Python ThreadingHTTPServer in the bench "
        "process sending by sendfile, loopback, no throttle",
        f"control / raw per pair (A/A, the noise floor): median "
        f"{statistics.median(control_pair) * 100:.1f} %, spread {min(control_pair) * 100:.1f}–"
        f"{max(control_pair) * 100:.1f} %: " + ", ".join(f"{r * 100:.0f} %" for r in control_pair),
        "MB/s pair by pair (raw / app / control): "
        + ", ".join(
            f"{r:.0f} / {a:.0f} / {c.mb_s:.0f}"
            for r, a, c in zip(raw_mb, app_mb, control_runs, strict=True)
        ),
        f"{os.cpu_count()} CPUs: aria2c, the server and (app rounds) the app share them; "
        "other processes' CPU (e.g. a parallel test run) slows the rounds it overlaps",
    ]
    report("(e) throughput, 1 GiB over loopback", rows, notes)

"""tools/wine/watch_run.py ends a Windows test run that cannot end itself, with a verdict.

Real processes stand in for the run: a ``sleep`` for the test process, and copies of
``sleep`` named ``wineserver64`` and ``wine64`` for the prefix's wineserver and one of
its Windows processes (tools/wine/prefix_procs.py knows a Wine process by its
executable's name and its WINEPREFIX). CI twice lost a whole run to a Windows python.exe
that went silent, the second time because the wineserver had died; these are the
verdicts that now end such a run, each with a report of what was running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.platforms import only_on

pytestmark = only_on("linux", "the Wine test bed's tools (/proc)")

ROOT = Path(__file__).resolve().parents[2]
WATCH = ROOT / "tools" / "wine" / "watch_run.py"
PROCS = ROOT / "tools" / "wine" / "prefix_procs.py"
RUNNING = "tests/e2e/test_x_e2e.py::test_slow"


@dataclass
class Run:
    prefix: Path
    log: Path
    trace: Path
    report: Path
    test: subprocess.Popen[bytes]
    server: subprocess.Popen[bytes]
    windows: subprocess.Popen[bytes]

    def start_watch(self, *extra: object) -> subprocess.Popen[str]:
        """The watcher, once it has said it watches (it has found the wineserver)."""
        args = ["--pid", self.test.pid, "--prefix", self.prefix, "--log", self.log]
        args += ["--trace", self.trace, "--report", self.report, "--poll", 0.2, *extra]
        watcher = subprocess.Popen(
            [sys.executable, str(WATCH), *map(str, args)],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert watcher.stderr is not None
        assert "watching the run" in watcher.stderr.readline()
        return watcher

    def watch(self, *extra: str) -> subprocess.CompletedProcess[str]:
        watcher = self.start_watch(*extra)
        _, err = watcher.communicate(timeout=60)
        return subprocess.CompletedProcess(watcher.args, watcher.returncode, "", err)

    def trace_lines(self, *lines: tuple[float, str, str, str]) -> None:
        self.trace.write_text("".join("\t".join(map(str, line)) + "\n" for line in lines))


def _tool(script: Path, *args: object) -> str:
    """What one of the tools printed; it must succeed."""
    command = [sys.executable, str(script), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _program(folder: Path, name: str) -> Path:
    copy = folder / name
    shutil.copy2(shutil.which("sleep") or "/bin/sleep", copy)
    return copy


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    prefix = tmp_path / "prefix"
    (tmp_path / "prefix.state" / "logs").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {**os.environ, "WINEPREFIX": str(prefix)}
    started = [
        subprocess.Popen(["sleep", "60"]),
        subprocess.Popen([str(_program(bin_dir, "wineserver64")), "60"], env=env),
        subprocess.Popen([str(_program(bin_dir, "wine64")), "60"], env=env),
    ]
    logs = tmp_path / "prefix.state" / "logs"
    yield Run(
        prefix,
        logs / "pytest.log",
        logs / "pytest.trace",
        logs / "verdict",
        *started,
    )
    for proc in started:
        proc.kill()
        proc.wait()


def test_a_run_that_ends_by_itself_gets_no_verdict(run: Run) -> None:
    run.test.kill()
    run.test.wait()
    result = run.watch()
    assert result.returncode == 0, result.stderr
    assert not run.report.exists()
    assert run.windows.poll() is None  # nothing of the prefix was touched


def test_a_wineserver_that_died_ends_the_run_with_its_last_words(run: Run) -> None:
    now = time.time()
    run.trace_lines(
        (now - 30, "start", "tests/unit/test_a.py::test_one", 300),
        (now - 29, "setup", "tests/unit/test_a.py::test_one", "passed 0.5"),
        (now - 20, "call", "tests/unit/test_a.py::test_one", "failed 9.0"),
        (now - 20, "teardown", "tests/unit/test_a.py::test_one", "passed 0.1"),
        (now - 20, "finish", "tests/unit/test_a.py::test_one", ""),
        (now - 10, "start", RUNNING, 300),
        (now - 9, "setup", RUNNING, "passed 1.0"),
    )
    log = run.prefix.parent / "prefix.state" / "logs" / "wineserver.log"
    log.write_text("an earlier run's words: sock.c: Assertion failed\n")
    watcher = run.start_watch()
    with log.open("a") as more:
        more.write(
            "wineserver64: server/sock.c:1331: sock_poll_event: Assertion "
            "`sock->obj.ops == &sock_ops' failed.\n"
        )
    run.server.kill()
    run.server.wait()
    _, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 6, err
    report = run.report.read_text()
    assert "the wineserver died: wineserver64: server/sock.c:1331" in report
    assert f"running: {RUNNING} (call, for " in report
    assert "failed: tests/unit/test_a.py::test_one" in report
    assert "finished: 1 tests, 10 s in them" in report
    run.windows.wait(10)  # every Wine process of the prefix was ended
    assert run.test.poll() is None  # the test process is not one: test.sh's wait ends it


def test_the_budget_ends_a_run_that_takes_too_long(run: Run) -> None:
    result = run.watch("--budget", "1")
    assert result.returncode == 5, result.stderr
    assert "longer than its budget of 1.0 s" in run.report.read_text()
    run.windows.wait(10)


def test_a_test_past_every_timeout_ends_the_run(run: Run) -> None:
    run.trace_lines((time.time() - 200, "start", RUNNING, 30))  # 2 x 30 + 120 < 200
    result = run.watch()
    assert result.returncode == 4, result.stderr
    assert "past its time limit and the backstop" in run.report.read_text()
    assert f"running: {RUNNING} (setup, for 20" in run.report.read_text()


def test_a_timeout_the_process_does_not_exit_from_ends_the_run(run: Run) -> None:
    run.log.write_text("tests\\e2e\\test_x_e2e.py .")
    watcher = run.start_watch("--grace", "0.5")
    with run.log.open("a") as more:
        more.write("+" * 20 + " Timeout " + "+" * 20 + "\n")
    _, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 3, err
    assert "did not exit within 0.5 s" in run.report.read_text()


def test_an_earlier_attempts_timeout_is_not_this_ones(run: Run) -> None:
    """test.sh appends a second attempt's output to the first's log."""
    run.log.write_text("+" * 20 + " Timeout " + "+" * 20 + "\n")
    watcher = run.start_watch("--grace", "0")
    with run.log.open("a") as more:
        more.write("tests\\unit\\test_a.py ....\n")
    time.sleep(1)  # five looks at the log, none of which may end the run
    assert watcher.poll() is None
    run.test.kill()
    run.test.wait()
    _, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err


def test_failed_lists_what_the_trace_saw_fail(run: Run) -> None:
    run.trace_lines(
        (1.0, "start", "t.py::a", 300),
        (2.0, "setup", "t.py::a", "failed 0.1"),
        (3.0, "start", "t.py::b", 300),
        (4.0, "call", "t.py::b", "passed 0.1"),
    )
    assert _tool(WATCH, "--failed", run.trace).splitlines() == ["t.py::a"]


def test_prefix_procs_lists_and_ends_only_the_wine_processes_of_its_prefix(run: Run) -> None:
    listed = _tool(PROCS, "list", run.prefix)
    pids = {int(line.split()[0]) for line in listed.splitlines()}
    assert pids == {run.server.pid, run.windows.pid}
    _tool(PROCS, "kill", run.prefix)
    assert run.server.wait(10) == -9 and run.windows.wait(10) == -9
    assert run.test.poll() is None


HALF_DEAD_C = r"""
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
static void *stay(void *arg) { for (;;) pause(); return arg; }
int main(void) {
    pthread_t t;
    pthread_create(&t, 0, stay, 0);
    syscall(SYS_exit, 0); /* ends this thread only: the process lives on in the other */
}
"""


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (cc)")
def test_a_process_whose_main_thread_died_is_still_found_and_ended(run: Run) -> None:
    """Under Wine a killed process can keep one stuck thread behind a zombie main thread.

    Seen with the chaos test under load: Windows still saw the app, and /proc/PID showed
    no program or environment for it, so neither the report nor the kill found it.
    """
    source = run.prefix.parent / "half_dead.c"
    source.write_text(HALF_DEAD_C)
    program = run.prefix.parent / "bin" / "wine64-half-dead"
    subprocess.run(["cc", "-pthread", "-o", program, source], check=True)
    env = {**os.environ, "WINEPREFIX": str(run.prefix)}
    half = subprocess.Popen([program], env=env)
    try:
        wait = time.monotonic() + 30
        while (Path(f"/proc/{half.pid}/stat").read_text().split(") ")[1][0]) != "Z":
            assert time.monotonic() < wait, "the main thread did not end"
            time.sleep(0.05)
        listed = _tool(PROCS, "list", run.prefix)
        assert f"{half.pid} Z " in listed and "wine64-half-dead" in listed
        _tool(PROCS, "kill", run.prefix)
        assert half.wait(10) == -9
    finally:
        half.kill()
        half.wait()

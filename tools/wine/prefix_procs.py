"""The Linux processes of one Wine prefix: list them, find its wineserver, or kill them all.

    python3 tools/wine/prefix_procs.py list WINEPREFIX   one line a process (state, CPU, name)
    python3 tools/wine/prefix_procs.py kill WINEPREFIX   SIGKILL every one; prints how many

A process belongs to the prefix when it is a Wine program (its executable is wine64,
wineserver64, wine-preloader, ...: every Windows process is one) and its environment
says ``WINEPREFIX=<it>``: tools/wine/env.sh starts each so, and Windows children inherit
it. Both, since the shells and pipes around a run (tee, cat, Xvfb) have the variable too.
``wineserver -k`` cannot end them once the wineserver itself has died (Wine 8's can
abort on an assertion: see watch_run.py); they then live on, holding the run's output
pipes open, and the run would wait for them forever.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

assert sys.platform.startswith("linux"), "it reads /proc: Wine runs on Linux"

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    pid: int
    name: str
    state: str
    cpu_s: float
    age_s: float
    threads: int
    wchan: str

    def line(self) -> str:
        return (
            f"{self.pid:>7} {self.state} cpu {self.cpu_s:7.1f} s  age {self.age_s:6.0f} s  "
            f"{self.threads:>3} threads  wchan {self.wchan or '-':<24} {self.name}"
        )


def _live_view(pid: int) -> Path | None:
    """A /proc folder that still shows ``pid``'s program and environment.

    Normally /proc/PID. Under Wine a killed process can end up with its main thread
    gone (a zombie, whose exe and environ read as nothing) while another thread lives
    on, stuck: the process then exists for Windows and for its waiters, for good. Its
    live thread's folder (/proc/PID/task/TID) still shows what it is.
    """
    base = PROC / str(pid)
    try:
        tasks = sorted((base / "task").iterdir(), key=lambda t: t.name != str(pid))
    except OSError:  # gone
        return None
    for task in tasks:
        try:
            os.readlink(task / "exe")
            return task
        except OSError:
            continue
    return None


def _is_wine_of(pid: int, entry: bytes) -> bool:
    view = _live_view(pid)
    if view is None:
        return False
    try:
        wine = os.path.basename(os.readlink(view / "exe")).startswith("wine")
        return wine and entry in (view / "environ").read_bytes().split(b"\0")
    except OSError:  # gone, or not ours to read
        return False


def pids_of(prefix: str) -> list[int]:
    """Every live Wine process of ``prefix``."""
    entry = f"WINEPREFIX={prefix}".encode()
    found = []
    for path in PROC.iterdir():
        if path.name.isdigit() and _is_wine_of(int(path.name), entry):
            found.append(int(path.name))
    return sorted(found)


def _boot_time() -> float:
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def describe(pid: int) -> Proc | None:
    """What /proc says of ``pid``, or None if it has gone."""
    base, view = PROC / str(pid), _live_view(pid)
    try:
        stat = (base / "stat").read_text()
        argv = ((view or base) / "cmdline").read_bytes().split(b"\0")
        wchan = ((view or base) / "wchan").read_text().strip()
    except OSError:
        return None
    # "pid (comm) state ..." where comm may hold spaces and parentheses
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    started = _boot_time() + int(fields[19]) / TICKS
    name = " ".join(a.decode(errors="replace") for a in argv if a)[:100]
    return Proc(pid, name, fields[0], cpu, time.time() - started, int(fields[17]), wchan)


def wineserver_of(prefix: str) -> int | None:
    """The pid of the prefix's wineserver, if one runs."""
    for pid in pids_of(prefix):
        proc = describe(pid)
        if proc and Path(proc.name.split(" ")[0]).name.startswith("wineserver"):
            return pid
    return None


def kill_all(prefix: str) -> int:
    """SIGKILL every process of ``prefix``, until none is left; returns how many were."""
    killed: set[int] = set()
    for _ in range(20):  # a dying Wine process may start a helper (conhost.exe, ...)
        pids = pids_of(prefix)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    return len(killed)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("list", "kill"):
        print("usage: prefix_procs.py list|kill WINEPREFIX", file=sys.stderr)
        return 2
    prefix = argv[2]
    if argv[1] == "kill":
        print(f"ended {kill_all(prefix)} process(es) of {prefix}")
        return 0
    for pid in pids_of(prefix):
        proc = describe(pid)
        if proc:
            print(proc.line())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Watch a Windows test run from outside, and end it with a verdict when it can't end itself.

    python3 tools/wine/watch_run.py --pid PID --log LOG --trace TRACE --prefix WINEPREFIX
                                    --report FILE [--budget S] [--grace S]
    python3 tools/wine/watch_run.py --failed TRACE   the tests the trace saw fail, a line each

Exit status: 0 when the run (``PID``) ended by itself; otherwise the verdict's code, once
its report is in FILE (and on stderr) and every process of the prefix has been killed;
tools/wine/test.sh then fails the run (or, after code 6, runs the rest again):

    3  a test timed out and the process did not exit ``--grace`` s after saying so
    4  a test has run past its limit twice over plus 2 min, and nothing fired
    5  the run has taken longer than ``--budget`` s
    6  the prefix's wineserver died (Wine 8's wineserver aborts now and then on
       "sock_poll_event: Assertion `sock->obj.ops == &sock_ops' failed", a use-after-free
       in its socket polling; every Windows process then waits for good, silent)

Why from outside: CI twice saw the Windows python.exe go silent until CI's own limit. Its
own timeouts (pytest-timeout, the faulthandler backstop) need the wineserver to write a
line or to exit, and the second time the wineserver was the thing that had died. The
report says what is known from here: the test and phase running and since when (from
the trace tests/support/run_trace.py writes), the slowest tests so far, the machine's
load and each Wine process's state and CPU time.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

assert sys.platform.startswith("linux"), "it reads /proc: Wine runs on Linux"

from prefix_procs import describe, kill_all, pids_of, wineserver_of  # noqa: E402
from timeout_summary import first_timeout  # noqa: E402

PAST_BACKSTOP_S = 120.0  # the backstop fires at 2 x limit + 60 s; then 2 min more
SLOWEST = 10


@dataclass
class Trace:
    """What tests/support/run_trace.py wrote: finished tests, failures, the running one."""

    durations: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    running: str | None = None
    running_since: float = 0.0
    running_limit: float = 0.0
    phase: str = ""

    @classmethod
    def read(cls, path: Path) -> Trace:
        trace = cls()
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return trace
        spent: dict[str, float] = {}
        for line in text.splitlines():
            fields = line.rstrip("\r").split("\t")
            if len(fields) < 3:
                continue  # a line cut short by a kill
            when, event, nodeid = float(fields[0]), fields[1], fields[2]
            extra = fields[3].split() if len(fields) > 3 else []
            if event == "start":
                trace.running, trace.running_since, trace.phase = nodeid, when, "setup"
                trace.running_limit = float(extra[0]) if extra else 0.0
                spent[nodeid] = 0.0
            elif event in ("setup", "call", "teardown") and len(extra) == 2:
                spent[nodeid] = spent.get(nodeid, 0.0) + float(extra[1])
                if extra[0] == "failed" and nodeid not in trace.failed:
                    trace.failed.append(nodeid)
                trace.phase = {"setup": "call", "call": "teardown"}.get(event, "teardown")
            elif event == "finish":
                trace.durations[nodeid] = spent.get(nodeid, 0.0)
                trace.running = None
        return trace


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def report(reason: str, trace: Trace, prefix: str, started: float) -> list[str]:
    now = time.time()
    out = [f"test-windows: {reason}", f"  after {now - started:.0f} s; load average {_load()}"]
    if trace.running:
        out.append(
            f"  running: {trace.running} ({trace.phase}, for {now - trace.running_since:.0f} s;"
            f" limit {trace.running_limit:.0f} s)"
        )
    total = sum(trace.durations.values())
    out.append(f"  finished: {len(trace.durations)} tests, {total:.0f} s in them")
    for name in trace.failed:
        out.append(f"  failed: {name}")
    slowest = sorted(trace.durations.items(), key=lambda kv: kv[1], reverse=True)[:SLOWEST]
    if slowest:
        out.append(f"  slowest {len(slowest)}:")
        out.extend(f"    {secs:6.1f} s  {name}" for name, secs in slowest)
    procs = [p for p in map(describe, pids_of(prefix)) if p]
    out.append(f"  Wine processes of the prefix: {len(procs)}")
    out.extend("    " + p.line() for p in procs)
    return out


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _timed_out(log: Path, since: int) -> bool:
    """Whether the log says, after its first ``since`` bytes, that a test timed out.

    Only this attempt's part: test.sh appends a second attempt to the first one's log.
    """
    try:
        with log.open("rb") as text:
            text.seek(since)
            lines = text.read().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return False
    return first_timeout(lines) is not None


def _server_log(prefix: str) -> Path:
    return Path(f"{prefix}.state/logs/wineserver.log")  # tools/wine/env.sh's wine_up


def _server_death(prefix: str, since: int) -> str:
    """Why the wineserver died, in its own words: what it wrote to its log from ``since``."""
    try:
        with _server_log(prefix).open("rb") as log:
            log.seek(since)
            said = log.read().decode(errors="replace").splitlines()
    except OSError:
        return "its log is unreadable"
    why = [line for line in said if re.search(r"assert|fault|abort|error", line, re.I)]
    return (why or said or ["it wrote nothing"])[0].strip()[:300]


def watch(args: argparse.Namespace) -> int:
    started = time.time()
    server = wineserver_of(args.prefix) or -1  # wine_up started it: gone if not found
    server_said, log_said = _size(_server_log(args.prefix)), _size(args.log)
    print(
        f"test-windows: watching the run (its wineserver: pid {server})",
        file=sys.stderr,
        flush=True,
    )
    timed_out_at: float | None = None
    while _alive(args.pid):
        time.sleep(args.poll)
        if not _alive(args.pid):
            break
        verdict: tuple[int, str] | None = None
        trace = Trace.read(args.trace)
        now = time.time()
        if not _alive(server):
            verdict = 6, f"the wineserver died: {_server_death(args.prefix, server_said)}"
        elif timed_out_at is None and _timed_out(args.log, log_said):
            timed_out_at = now
        if verdict is None and timed_out_at is not None and now - timed_out_at > args.grace:
            verdict = 3, f"a test timed out and the process did not exit within {args.grace} s"
        past = now - trace.running_since - 2 * trace.running_limit - PAST_BACKSTOP_S
        if verdict is None and trace.running and trace.running_limit and past > 0:
            verdict = 4, "a test ran past its time limit and the backstop, and nothing fired"
        if verdict is None and args.budget and now - started > args.budget:
            verdict = 5, f"the run took longer than its budget of {args.budget} s"
        if verdict is not None:
            lines = report(verdict[1], trace, args.prefix, started)
            args.report.write_text("\n".join(lines) + "\n", encoding="utf-8")
            print("\n".join(lines), file=sys.stderr, flush=True)
            # Every process of the prefix, not `wineserver -k`: that cannot reach a
            # wineserver that died, whose orphans would hold the output pipes open.
            print(f"test-windows: ended {kill_all(args.prefix)} Wine processes", file=sys.stderr)
            return verdict[0]
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failed", type=Path, help="print the failed tests of this trace")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--log", type=Path)
    parser.add_argument("--trace", type=Path)
    parser.add_argument("--prefix")
    parser.add_argument("--report", type=Path)
    parser.add_argument("--budget", type=float, default=0.0)
    parser.add_argument("--grace", type=float, default=30.0)
    parser.add_argument("--poll", type=float, default=5.0, help="seconds between looks")
    args = parser.parse_args(argv[1:])
    if args.failed:
        for name in Trace.read(args.failed).failed:
            print(name)
        return 0
    if None in (args.pid, args.log, args.trace, args.prefix, args.report):
        parser.error("--pid, --log, --trace, --prefix and --report are needed to watch")
    return watch(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""A line per test phase in a file, for a watcher outside the test process.

``tools/wine/test.sh`` sets ``ARIA_TRAY_TEST_TRACE`` to a file path. The
watcher (``tools/wine/watch_run.py``) reads it to tell which test is running,
in which phase and since when, and which tests took longest, even when the
test process can no longer say anything itself (the Windows python.exe under
Wine has twice gone silent in CI: no output, no timeout dump, no exit).

Each line is tab-separated and flushed at once:

    <unix time>  start  <nodeid>  <the test's time limit, s>
    <unix time>  <setup|call|teardown>  <nodeid>  <outcome> <duration, s>
    <unix time>  finish  <nodeid>

With ``ARIA_TRAY_TEST_RESUME=1`` as well, a run leaves out the tests the trace
already saw finish: test.sh runs the rest again in a fresh wineserver when
the first one died under the run (a Wine bug; see tools/wine/watch_run.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import IO

import pytest

ENV = "ARIA_TRAY_TEST_TRACE"
RESUME_ENV = "ARIA_TRAY_TEST_RESUME"
LimitOf = Callable[[pytest.Item], float]


class RunTrace:
    """The pytest plugin that appends the lines; registered only when ``ENV`` is set."""

    def __init__(self, out: IO[str], limit_of: LimitOf, done: set[str]) -> None:
        self._out = out
        self._limit_of = limit_of
        self._done = done
        self._limit_for: dict[str, str] = {}

    def _line(self, *fields: object) -> None:
        self._out.write("\t".join([f"{time.time():.1f}", *map(str, fields)]) + "\n")
        self._out.flush()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        self._line("start", nodeid, self._limit_for.get(nodeid, 0))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._line(report.when, report.nodeid, f"{report.outcome} {report.duration:.1f}")

    def pytest_runtest_logfinish(self, nodeid: str, location: object) -> None:
        self._line("finish", nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if self._done:
            finished = [item for item in items if item.nodeid in self._done]
            if finished:
                config.hook.pytest_deselected(items=finished)
                items[:] = [item for item in items if item.nodeid not in self._done]
        self._limit_for = {item.nodeid: f"{self._limit_of(item):.0f}" for item in items}


def finished_in(path: str) -> set[str]:
    """The tests an earlier run of this trace saw to their end."""
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            return {
                f[2]
                for f in (line.rstrip("\r\n").split("\t") for line in lines)
                if len(f) >= 3 and f[1] == "finish"
            }
    except FileNotFoundError:
        return set()


def register(config: pytest.Config, limit_of: LimitOf) -> None:
    """Add the plugin if the environment asks for a trace (appending: one file per run)."""
    path = os.environ.get(ENV)
    if path:
        done = finished_in(path) if os.environ.get(RESUME_ENV) == "1" else set()
        out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the whole run
        config.pluginmanager.register(RunTrace(out, limit_of, done), "aria-tray-run-trace")
        config.add_cleanup(out.close)

"""Benchmarks: run with ``make bench`` (``pytest tests/bench -s``).

They take a minute or more and assert nothing about time, so a plain
``pytest`` over the whole tree skips them; naming ``tests/bench`` (or a file
in it) on the command line, or ``-m bench``, runs them.

Every benchmark runs the app on one shared private X server with a tray
(Xvfb + trayer), as a desktop user would. Without those tools they fall back
to the offscreen platform and say so, unless ``ARIA_TRAY_REQUIRE_TRAY=1``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchkit import ALL_FIGURES, render_table

from support.xserver import XServer, XServerUnavailable, tray_required

BENCH_DIR = Path(__file__).resolve().parent


def _explicitly_selected(config: pytest.Config) -> bool:
    if "bench" in (config.getoption("markexpr", "") or ""):
        return True
    for arg in config.args:
        path = Path(arg.split("::", 1)[0]).resolve()
        if path == BENCH_DIR or BENCH_DIR in path.parents:
            return True
    return False


# A benchmark may rightly run longer than the suite's default per-test timeout.
BENCH_TIMEOUT_S = 1800


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _explicitly_selected(config):
        for item in items:
            if item.path.is_relative_to(BENCH_DIR):
                item.add_marker(pytest.mark.timeout(BENCH_TIMEOUT_S))
        return
    skip = pytest.mark.skip(reason="benchmark: run with `make bench` or `pytest tests/bench`")
    for item in items:
        if item.get_closest_marker("bench"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def bench_display() -> Iterator[XServer | None]:
    """One X server with a tray for all benchmarks, or None (offscreen fallback)."""
    server = XServer()
    try:
        server.start()
    except XServerUnavailable as exc:
        if tray_required():
            pytest.fail(f"no X server with a system tray: {exc}")
        print(f"\n  NOTE: no X server with a tray ({exc}); benchmarking offscreen, no tray.")
        yield None
        return
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def bench_env(
    bench_display: XServer | None, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Environment for the app under test: the bench X server's (or offscreen).

    Python may cache bytecode, in a private folder (never in the checkout),
    as it can in any real install; ``PYTHONDONTWRITEBYTECODE=1`` in a
    sandbox would otherwise make every launch compile the app from source.
    :data:`benchkit.NO_BYTECODE` restores that for comparison.
    """
    env = {"QT_QPA_PLATFORM": "offscreen"} if bench_display is None else bench_display.env()
    env["PYTHONDONTWRITEBYTECODE"] = ""
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path_factory.mktemp("pycache"))
    return env


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ALL_FIGURES:
        return
    terminalreporter.section("Aria Tray benchmark summary")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    terminalreporter.write_line(
        f"machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min) at the end; "
        "figures from a busy machine run slow"
    )
    by_title: dict[str, list] = {}
    for title, figure in ALL_FIGURES:
        by_title.setdefault(title, []).append(figure)
    for title, figures in by_title.items():
        terminalreporter.write_line(render_table(figures, title))


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that takes connections into its backlog and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4096)
        yield sock.getsockname()[1]

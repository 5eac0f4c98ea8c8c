"""tests/support/run_trace.py: a run killed mid-test is resumed with what had not finished.

Real pytest processes: the first dies inside a test (os._exit, as a run does when its
wineserver dies and tools/wine/test.sh ends every Windows process), the second runs
with ARIA_TRAY_TEST_RESUME=1 and must run that test and the ones after it, not again
the one that had finished.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

CONFTEST = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from support.run_trace import register

def pytest_configure(config):
    register(config, lambda item: 7)
"""

SUITE = """
import os

def test_a():
    pass

def test_b():
    if os.environ.get("DIE_IN_B"):
        os._exit(3)

def test_c():
    assert False, "c fails"
"""


def _pytest(folder: Path, trace: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(folder)],
        cwd=folder,
        env={**os.environ, "ARIA_TRAY_TEST_TRACE": str(trace), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _events(trace: Path) -> list[tuple[str, str, str]]:
    """(event, test, the limit or the outcome): durations vary, so they are left out."""
    rows = [line.split("\t") for line in trace.read_text().splitlines()]
    return [(r[1], r[2].split("::")[-1], r[3].split(" ")[0] if len(r) > 3 else "") for r in rows]


def test_a_killed_run_resumes_at_the_test_it_was_in(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_s.py").write_text(SUITE)
    trace = tmp_path / "trace.txt"

    first = _pytest(suite, trace, DIE_IN_B="1")
    assert first.returncode == 3, first.stdout + first.stderr
    assert _events(trace) == [
        ("start", "test_a", "7"),
        ("setup", "test_a", "passed"),
        ("call", "test_a", "passed"),
        ("teardown", "test_a", "passed"),
        ("finish", "test_a", ""),
        ("start", "test_b", "7"),
        ("setup", "test_b", "passed"),
    ]

    second = _pytest(suite, trace, ARIA_TRAY_TEST_RESUME="1")
    assert "1 failed, 1 passed, 1 deselected" in second.stdout, second.stdout
    ran = [name for event, name, _ in _events(trace)[7:] if event == "start"]
    assert ran == ["test_b", "test_c"]
    assert ("call", "test_c", "failed") in _events(trace)

    fresh = _pytest(suite, trace)  # without the switch, a run runs everything
    assert "1 failed, 2 passed" in fresh.stdout, fresh.stdout

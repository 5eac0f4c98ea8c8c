"""Tests of another platform's features are left out and named, not skipped (support.platforms)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support.app_process import LAUNCH_ENV

pytest_plugins = ["pytester"]

TESTS = Path(__file__).resolve().parents[1]
HERE, ELSEWHERE = ("win32", "linux") if sys.platform == "win32" else ("posix", "win32")


def test_another_platforms_feature_is_deselected_and_named(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LAUNCH_ENV, raising=False)  # a run of the source tree
    pytester.makeconftest(
        f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from support.platforms import leave_out_missing_features, report_left_out

def pytest_collection_modifyitems(config, items):
    leave_out_missing_features(config, items)

def pytest_terminal_summary(terminalreporter, config):
    report_left_out(terminalreporter, config)
"""
    )
    pytester.makeini("[pytest]\nmarkers =\n    only_on: x\n    tray: x\n    frozen_only: x\n")
    pytester.makepyfile(
        f"""
import pytest
from support.platforms import only_on

@only_on({HERE!r}, "a feature here")
def test_here(): pass

@only_on({ELSEWHERE!r}, "a feature elsewhere")
def test_elsewhere(): raise AssertionError("must not run")

@only_on({ELSEWHERE!r}, "a feature elsewhere")
@pytest.mark.parametrize("n", [1, 2])
def test_elsewhere_twice(n): raise AssertionError("must not run")

def test_anywhere(): pass

@pytest.mark.frozen_only
def test_the_bundle(): raise AssertionError("must not run from the source tree")
"""
    )
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, deselected=4)
    result.stdout.fnmatch_lines(
        [
            "*not collected: what this platform or run has not got*",
            f"  3  a feature elsewhere ({ELSEWHERE})",
            "  1  the frozen build (run by make test-dist and make test-dist-windows)",
        ]
    )


def test_an_unknown_platform_is_refused() -> None:
    from support.platforms import only_on

    with pytest.raises(ValueError, match="unknown platform"):
        only_on("windows", "a typo")

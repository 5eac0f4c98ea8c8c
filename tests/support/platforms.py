"""Tests of a feature that one platform has and another has not.

Such a test is not *skipped* elsewhere: it is not collected there. pytest
counts it as deselected, and the run's summary names each feature left out
(``tests/conftest.py``). A skip means "this behaviour exists here, but the
test cannot show it": a Wine limit (``support.wine``), a missing tool, the
frozen build. XDG autostart on Windows or the HKCU Run key on Linux is not
that; it is not there at all, so counting it as a skip would hide the skips
that matter among dozens that do not.

``@only_on("linux", "XDG autostart")`` marks one; the ``tray`` marker (an
X11 tray driven with Xvfb, trayer and xdotool) implies ``only_on("linux")``.
The same goes for a check of the frozen bundle (``frozen_only``) in a run of
the source tree: ``make test-dist`` and ``make test-dist-windows`` run it.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence

import pytest

from support.app_process import is_frozen_target

PLATFORMS = ("linux", "posix", "win32")
X11_TRAY = "an X11 system tray (Xvfb, trayer, xdotool)"
#: The app's 0600 files and 0700 folders; on Windows the profile folder's ACL keeps them private.
POSIX_MODES = "POSIX file modes"
FROZEN_BUILD = "the frozen build (run by make test-dist and make test-dist-windows)"


def only_on(platform: str, feature: str) -> pytest.MarkDecorator:
    """Collect the test only on ``platform`` ("linux", "posix" or "win32")."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; one of {PLATFORMS}")
    return pytest.mark.only_on(platform, feature)


def runs_here(platform: str) -> bool:
    if platform == "linux":
        return sys.platform.startswith("linux")
    if platform == "posix":
        return os.name == "posix"
    return sys.platform == "win32"


def feature_missing_here(item: pytest.Item) -> str | None:
    """The feature ``item`` tests, if this platform has not got it; else None."""
    for mark in item.iter_markers("only_on"):
        platform, feature = mark.args
        if not runs_here(platform):
            return f"{feature} ({platform})"
    if item.get_closest_marker("tray") is not None and not runs_here("linux"):
        return f"{X11_TRAY} (linux)"
    if item.get_closest_marker("frozen_only") is not None and not is_frozen_target():
        return FROZEN_BUILD
    return None


def split_by_platform(items: Sequence[pytest.Item]) -> tuple[list[pytest.Item], Counter[str]]:
    """The items to run here, and how many were left out per missing feature."""
    kept: list[pytest.Item] = []
    left_out: Counter[str] = Counter()
    for item in items:
        feature = feature_missing_here(item)
        if feature is None:
            kept.append(item)
        else:
            left_out[feature] += 1
    return kept, left_out


LEFT_OUT = pytest.StashKey[Counter[str]]()


def leave_out_missing_features(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The collection hook: deselect what tests a feature this platform has not got."""
    kept, left_out = split_by_platform(items)
    if left_out:
        kept_ids = {id(item) for item in kept}
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept_ids])
        items[:] = kept
    config.stash[LEFT_OUT] = left_out


def report_left_out(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """The summary hook: name each feature left out, so a count never hides a reason."""
    left_out = config.stash.get(LEFT_OUT, Counter())
    if left_out:
        terminalreporter.section("not collected: what this platform or run has not got")
        for feature, count in sorted(left_out.items()):
            terminalreporter.write_line(f"{count:3d}  {feature}")

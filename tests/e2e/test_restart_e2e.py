"""The app starting itself again (issue 9, item 26: a new language offers a restart).

``PrimaryApp.request_restart`` quits the usual way and, once the instance
lock is released, :func:`desktop.integration.start_detached` starts this
Aria Tray again: the command a user's launch used, detached, with the same
environment (so the same app home). Here that last step runs from the test
process the way the app runs it, and a real primary must come up.
"""

from __future__ import annotations

import sys

import pytest

from desktop.integration import start_detached
from support.app_process import REPO, AppHome

pytestmark = [pytest.mark.e2e, pytest.mark.source_only]


def test_start_detached_starts_a_new_primary(
    app_home: AppHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", [str(REPO / "main.py")])  # as in `python main.py`
    assert app_home.app_processes() == []

    start_detached(app_home.env())  # the app passes none: its own, with its home

    status = app_home.wait_ready(timeout=30)
    assert status["engine_state"] == "ready"
    assert len(app_home.primary_processes()) == 1
    assert app_home.run("--quit", timeout=30).returncode == 0
    assert app_home.app_processes() == [] and app_home.aria2c_processes() == []

"""A home Aria Tray cannot use gives a clear answer, never a traceback or a hang.

Item 12 of issue 8: a run as root on the user's HOME left root-owned files
that broke the user's next runs; a folder where a file belongs; ``--status``
and ``--quit`` against a read-only home.

"Another user" is ``nobody`` (``support.other_user``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from e2e_support import counts, start_primary

from aria2_core.paths import AppPaths
from support.app_process import AppHome, launch_command
from support.other_user import (
    NOBODY,
    chown_tree,
    launch_as_nobody,
    needs_root,
    run_as_nobody,
    uids_below,
)
from support.platforms import only_on

pytestmark = pytest.mark.e2e


def as_root(test: Callable[..., None]) -> Callable[..., None]:
    """Root acting in a user's home: uids are POSIX's (Windows judges no owner here)."""
    return only_on("posix", "root and other users' homes (file owners' uids)")(needs_root(test))


@as_root
@pytest.mark.parametrize("args", [(), ("--cleanup",), ("http://127.0.0.1:9/a.bin",)])
def test_root_refuses_another_users_home_and_writes_nothing(
    app_home: AppHome, args: tuple[str, ...]
) -> None:
    chown_tree(app_home.home, NOBODY)
    proc = app_home.launch(*args)
    try:
        code = proc.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError("root started on another user's home") from None
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert code == 1
    assert "running as root" in stderr and "nobody" in stderr, stderr
    assert "Traceback" not in stderr
    assert uids_below(app_home.home) == {NOBODY}  # not one root-owned file


@as_root
def test_root_refuses_to_create_a_home_inside_another_users_folder(app_home: AppHome) -> None:
    """``sudo aria-tray`` keeping the user's HOME: no home yet, and its parent is theirs."""
    chown_tree(app_home.home, NOBODY)
    home = app_home.home / "share" / "aria-tray"
    app_home.extra_env["ARIA_TRAY_HOME"] = str(home)

    result = app_home.run(timeout=30)

    assert result.returncode == 1
    assert f"would be created inside {app_home.home}, of nobody" in result.stderr, result.stderr
    assert not (app_home.home / "share").exists()


@as_root
def test_users_run_names_what_root_left_and_works_after_the_fix(app_home: AppHome) -> None:
    paths = AppPaths.for_home(app_home.home)
    paths.ensure()
    # What a run as root used to leave in the user's home.
    for path in (paths.journal_file, paths.session_file, paths.lock_file):
        path.write_text("root was here\n")
        path.chmod(0o600)
    chown_tree(app_home.home, NOBODY)
    for path in (paths.journal_file, paths.session_file, paths.lock_file):
        os.chown(path, 0, 0)

    result = run_as_nobody(app_home, "http://127.0.0.1:9/b.bin")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for path in (paths.journal_file, paths.session_file, paths.lock_file):
        assert str(path) in result.stderr
    assert f"chown -R nobody: {app_home.home}" in result.stderr, result.stderr

    # The fix the message gives: then the user's next run works.
    for path in (paths.journal_file, paths.session_file, paths.lock_file):
        path.unlink()  # stand-ins above, not real state
    chown_tree(app_home.home, NOBODY)
    started = launch_as_nobody(app_home)
    app_home.wait_ready(30)
    try:
        status = json.loads(run_as_nobody(app_home, "--status").stdout)
        assert status["engine_state"] == "ready", app_home.log_text()
        assert counts(app_home) == (1, 1)
    finally:
        assert run_as_nobody(app_home, "--quit").returncode == 0
        started.wait(15)
    assert uids_below(app_home.home) == {NOBODY}


@pytest.mark.parametrize(
    "relative", ["journal.jsonl", "history.json", "engine/session.txt", "logs/aria-tray.log"]
)
def test_a_folder_where_a_file_belongs_is_named(app_home: AppHome, relative: str) -> None:
    AppPaths.for_home(app_home.home).ensure()
    (app_home.home / relative).mkdir(parents=True)

    result = app_home.run("http://127.0.0.1:9/c.bin", timeout=30)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{app_home.home / relative} should be a file but is a folder" in result.stderr
    assert counts(app_home) == (0, 0)


def _run_read_only(home: AppHome, *args: str) -> subprocess.CompletedProcess[str]:
    """``main.py args…`` in a private mount namespace where the home is mounted read-only."""
    root = home.home
    script = f'mount --bind {root} {root} && mount -o remount,bind,ro {root} && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", *launch_command(), *args],
        env=home.env(),
        capture_output=True,
        text=True,
        timeout=30,
    )


@needs_root
@pytest.mark.skipif(
    sys.platform == "win32",
    reason="Wine limit: a read-only home needs a deny ACL, which Wine does not have",
)
def test_status_and_quit_work_on_a_read_only_home(app_home: AppHome) -> None:
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a mount namespace here")
    primary, status = start_primary(app_home)

    shown = _run_read_only(app_home, "--status")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["app_pid"] == primary.pid

    quit_ = _run_read_only(app_home, "--quit")
    assert quit_.returncode == 0, quit_.stderr
    assert primary.wait(15) == 0
    assert counts(app_home) == (0, 0)
    assert status["aria2c_pid"] not in {p.pid for p in app_home.aria2c_processes()}

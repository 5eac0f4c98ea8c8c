"""A home Aria Tray cannot use gives a clear answer, never a traceback or a hang.

Item 12 of issue 8: a run as root on the user's HOME left root-owned files
that broke the user's next runs; a folder where a file belongs; ``--status``
and ``--quit`` against a read-only home.

"Another user" is ``nobody`` (uid 65534, on every Linux), entered with
``setpriv``. It keeps one capability, CAP_DAC_READ_SEARCH, only so it can
reach the Python of this checkout (which may live under a 0700 /root); it
can read anything but write only what it owns, which is what matters here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from e2e_support import counts, start_primary

from aria2_core.paths import AppPaths
from support.app_process import AppHome, launch_command

NOBODY = 65534

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(os.name != "posix", reason="POSIX users")]
as_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to act as another user",
)


def _chown_tree(root: Path, uid: int) -> None:
    for folder, dirs, files in os.walk(root):
        os.chown(folder, uid, uid)
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, uid)


AS_NOBODY = [
    "setpriv",
    f"--reuid={NOBODY}",
    f"--regid={NOBODY}",
    "--clear-groups",
    "--inh-caps=+dac_read_search",
    "--ambient-caps=+dac_read_search",
]


def _as_nobody(home: AppHome, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AS_NOBODY, *launch_command(), *args],
        env={**home.env(), "HOME": str(home.home)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _uids_below(root: Path) -> set[int]:
    uids = {root.stat().st_uid}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            uids.add(os.lstat(os.path.join(folder, name)).st_uid)
    return uids


@as_root
@pytest.mark.parametrize("args", [(), ("--cleanup",), ("http://127.0.0.1:9/a.bin",)])
def test_root_refuses_another_users_home_and_writes_nothing(
    app_home: AppHome, args: tuple[str, ...]
) -> None:
    _chown_tree(app_home.home, NOBODY)
    proc = app_home.launch(*args)
    try:
        code = proc.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError("root started on another user's home") from None
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert code == 1
    assert "running as root" in stderr and "nobody" in stderr, stderr
    assert "Traceback" not in stderr
    assert _uids_below(app_home.home) == {NOBODY}  # not one root-owned file


@as_root
def test_users_run_names_what_root_left_and_works_after_the_fix(app_home: AppHome) -> None:
    paths = AppPaths.for_home(app_home.home)
    paths.ensure()
    # What a run as root used to leave in the user's home.
    for path in (paths.journal_file, paths.session_file, paths.lock_file):
        path.write_text("root was here\n")
        path.chmod(0o600)
    _chown_tree(app_home.home, NOBODY)
    for path in (paths.journal_file, paths.session_file, paths.lock_file):
        os.chown(path, 0, 0)

    result = _as_nobody(app_home, "http://127.0.0.1:9/b.bin")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for path in (paths.journal_file, paths.session_file, paths.lock_file):
        assert str(path) in result.stderr
    assert f"chown -R nobody: {app_home.home}" in result.stderr, result.stderr

    # The fix the message gives: then the user's next run works.
    for path in (paths.journal_file, paths.session_file, paths.lock_file):
        path.unlink()  # stand-ins above, not real state
    _chown_tree(app_home.home, NOBODY)
    started = _start_as_nobody(app_home)
    try:
        status = json.loads(_as_nobody(app_home, "--status").stdout)
        assert status["engine_state"] == "ready", app_home.log_text()
        assert counts(app_home) == (1, 1)
    finally:
        assert _as_nobody(app_home, "--quit").returncode == 0
        started.wait(15)
    assert _uids_below(app_home.home) == {NOBODY}


def _start_as_nobody(home: AppHome) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [*AS_NOBODY, *launch_command()],
        env={**home.env(), "HOME": str(home.home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    home.launched.append(proc)
    home.wait_ready(30)
    return proc


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


def _read_only(home: Path, *args: str) -> list[str]:
    """``args`` run in a private mount namespace where ``home`` is mounted read-only."""
    script = f'mount --bind {home} {home} && mount -o remount,bind,ro {home} && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh", *args]


@as_root
def test_status_and_quit_work_on_a_read_only_home(app_home: AppHome) -> None:
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a mount namespace here")
    primary, status = start_primary(app_home)
    env = app_home.env()

    shown = subprocess.run(
        _read_only(app_home.home, *launch_command(), "--status"),
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["app_pid"] == primary.pid

    quit_ = subprocess.run(
        _read_only(app_home.home, *launch_command(), "--quit"),
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert quit_.returncode == 0, quit_.stderr
    assert primary.wait(15) == 0
    assert counts(app_home) == (0, 0)
    assert status["aria2c_pid"] not in {p.pid for p in app_home.aria2c_processes()}

"""Two launches racing over a stale lock file never make two primaries.

Item 9 of issue 8. ``QLockFile::removeStaleLockFile`` opens the file, takes
the OS lock on that descriptor and then unlinks *by path*. A launch that
opened the old garbage file and was delayed before locking it unlinked the
live primary's new lock file a moment later, and both became primary.

The delay is made real, not simulated: the first launch runs under
``strace`` with its first ``flock`` calls held up, so it sits between
"open the stale file" and "lock it" while a second, normal launch becomes
primary. Then both go on as they would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from aria2_core.paths import AppPaths
from support.app_process import AppHome, launch_command, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.source_only,
    pytest.mark.skipif(
        shutil.which("strace") is None,
        reason="holds the app inside flock() with strace, a Linux tool (apt-get install strace)",
    ),
]

FLOCK_DELAY_US = 2_500_000


def _holds_open(parent: int, path: Path) -> bool:
    """True while a child of ``parent`` (strace's tracee) has ``path`` open."""
    try:
        children = psutil.Process(parent).children()
    except psutil.Error:
        return False
    for child in children:
        try:
            fds = os.listdir(f"/proc/{child.pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{child.pid}/fd/{fd}") == str(path):
                    return True
            except OSError:
                continue
    return False


def _apps(home: AppHome) -> list[psutil.Process]:
    """The home's app processes, without strace (it shares the launch's environment)."""
    return [p for p in home.app_processes() if p.name() != "strace"]


def test_delayed_launch_over_a_stale_lock_never_makes_two_primaries(app_home: AppHome) -> None:
    lock = AppPaths.for_home(app_home.home).lock_file
    AppPaths.for_home(app_home.home).ensure()
    lock.write_bytes(b"\x00garbage from a crash while writing\n")
    old = time.time() - 60
    os.utime(lock, (old, old))  # old enough to be judged stale

    strace = [
        "strace",
        "-qq",
        "-o",
        os.devnull,
        "-e",
        "trace=flock",
        "-e",
        # Only the first two: the stale-removal's lock comes no later than that.
        f"inject=flock:delay_enter={FLOCK_DELAY_US}:when=1..2",
    ]
    delayed = subprocess.Popen(
        [*strace, *launch_command()],
        env=app_home.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    app_home.launched.append(delayed)
    # strace runs the launch as its child: wait until that has the stale file open.
    wait_until(lambda: _holds_open(delayed.pid, lock), 30, interval=0.005)

    prompt = app_home.launch()  # a normal launch while the first one is held up

    try:
        wait_until(lambda: delayed.poll() is not None or prompt.poll() is not None, 40)
        app_home.wait_ready(40)
    except TimeoutError:
        pass  # judged below, with the processes in view
    # Let both settle: a loser forwards to the winner and exits 0.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(_apps(app_home)) > 1:
        time.sleep(0.2)
    assert (len(_apps(app_home)), len(app_home.aria2c_processes())) == (1, 1), app_home.log_text()
    finished = [p for p in (delayed, prompt) if p.poll() is not None]
    assert len(finished) == 1 and finished[0].returncode == 0

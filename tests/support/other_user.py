"""Run a launch as another user: ``nobody`` (uid 65534, on every Linux).

Entered with ``setpriv``. It keeps one capability, CAP_DAC_READ_SEARCH,
only so it can reach the Python of this checkout (which may live under a
0700 /root): it can read anything but write only what it owns, and it may
signal only its own processes, which is what these tests are about.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.app_process import AppHome, launch_command
from support.wine import UNDER_WINE

NOBODY = 65534
AS_NOBODY = [
    "setpriv",
    f"--reuid={NOBODY}",
    f"--regid={NOBODY}",
    "--clear-groups",
    "--inh-caps=+dac_read_search",
    "--ambient-caps=+dac_read_search",
]

needs_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason=(
        "Wine limit: one user only, so no process of another account can be started"
        if UNDER_WINE
        else "acting as another Windows user needs that account's password"
        if os.name == "nt"
        else "needs root and setpriv to act as another user"
    ),
)


def chown_tree(root: Path, uid: int) -> None:
    for folder, dirs, files in os.walk(root):
        os.chown(folder, uid, uid)
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, uid)


def uids_below(root: Path) -> set[int]:
    uids = {root.stat().st_uid}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            uids.add(os.lstat(os.path.join(folder, name)).st_uid)
    return uids


def run_as_nobody(
    home: AppHome, *args: str, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """``main.py args…`` as nobody, to completion."""
    return subprocess.run(
        [*AS_NOBODY, *launch_command(), *args],
        env={**home.env(), "HOME": str(home.home)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def launch_as_nobody(home: AppHome, *args: str, **popen: Any) -> subprocess.Popen[bytes]:
    """``main.py args…`` as nobody, in the background; the fixture reaps it."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.PIPE)
    proc = subprocess.Popen(
        [*AS_NOBODY, *launch_command(), *args],
        env={**home.env(), "HOME": str(home.home)},
        **popen,
    )
    home.launched.append(proc)
    return proc

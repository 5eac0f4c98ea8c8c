"""The instance lock: the mutex of "one app per user", with real files and processes.

Stale, broken and foreign lock files are recovered; a live holder is respected.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QLockFile, QSysInfo

from aria2_core.errors import IpcError
from desktop.instance_lock import InstanceLock
from support.ipc_world import WINDOWS, World
from support.programs import kill_hard


@pytest.fixture
def w(qtbot: Any) -> Iterator[World]:
    world = World(qtbot)
    yield world
    world.close()


def test_two_lock_objects_in_one_process_exclude_each_other(w: World) -> None:
    first, second = w.lock(), w.lock()
    assert first.try_acquire() and first.is_held
    assert first.try_acquire()  # already ours
    assert not second.try_acquire() and not second.is_held
    assert second.holder_pid() == os.getpid()
    raw = QLockFile(str(w.lock_path))
    assert not raw.tryLock(0)
    assert not raw.removeStaleLockFile()  # the flock is per object: it refuses
    first.release()
    first.release()  # idempotent
    assert second.try_acquire()


def test_lock_held_by_a_live_process_then_killed(w: World) -> None:
    code = (
        "import sys\n"
        "from PySide6.QtCore import QLockFile\n"
        "lock = QLockFile(sys.argv[1]); lock.setStaleLockTime(0)\n"
        "print('locked' if lock.tryLock(0) else 'failed', flush=True)\n"
        "sys.stdin.read()\n"
    )
    opts: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    holder = w.spawn(code, str(w.lock_path), **opts)
    assert holder.stdout.readline().strip() == "locked"
    ours = w.lock()
    assert not ours.try_acquire()
    assert ours.holder_pid() == holder.pid
    assert not QLockFile(str(w.lock_path)).removeStaleLockFile()
    kill_hard(holder.pid)  # no chance to unlock
    holder.wait(timeout=30)
    assert ours.try_acquire()
    assert ours.holder_pid() == os.getpid()


def qt_lock_text(pid: int) -> bytes:
    """A lock file in Qt 6's own format naming ``pid`` as a Python process."""
    # The name Qt finds for a pid: the executable's base name (without .exe on Windows).
    app = (
        Path(sys.executable).stem
        if WINDOWS
        else f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )
    host = QSysInfo.machineHostName()
    machine = bytes(QSysInfo.machineUniqueId().data()).decode()
    boot = bytes(QSysInfo.bootUniqueId().data()).decode()
    return f"{pid}\n{app}\n{host}\n{machine}\n{boot}\n".encode()


@pytest.mark.parametrize("kind", ["empty", "garbage", "foreign-live-pid"])
def test_broken_lock_files_are_recovered(
    w: World, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aria_tray.ipc")
    if kind == "empty":
        w.lock_path.write_bytes(b"")
    elif kind == "garbage":
        w.lock_path.write_bytes(b"\x00\xffnot a lock file\n\n\n")
    else:  # a dead primary's PID, reused by an unrelated live Python process
        w.lock_path.write_bytes(qt_lock_text(w.spawn("import time; time.sleep(120)").pid))
    aged = time.time() - 10  # left behind by a crash, not being written right now
    os.utime(w.lock_path, (aged, aged))
    raw = QLockFile(str(w.lock_path))
    raw.setStaleLockTime(0)
    assert not raw.tryLock(0)  # Qt alone would wait on this file forever
    lock = w.lock()
    assert lock.try_acquire()
    assert lock.holder_pid() == os.getpid()
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("recovered a stale" in m for m in infos)


def test_fresh_unreadable_lock_file_is_left_alone_until_it_ages(w: World) -> None:
    """An empty, brand-new lock file may be a winner between create and lock."""
    w.lock_path.write_bytes(b"")
    lock = w.lock()
    assert not lock.try_acquire()
    assert w.lock_path.exists()
    aged = time.time() - 10
    os.utime(w.lock_path, (aged, aged))
    assert lock.try_acquire()


def test_lock_in_missing_folder_is_a_clear_error(w: World) -> None:
    with pytest.raises(IpcError, match="exists and is writable"):
        InstanceLock(w.dir / "missing" / "instance.lock").try_acquire()

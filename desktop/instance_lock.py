"""Who the primary instance is: the ``QLockFile`` mutex ("one mutex, one doorbell").

The doorbell (:mod:`desktop.single_instance`) only carries messages; this lock
alone decides who serves them. Stale, empty, garbled and dead-holder lock files
are recovered under a companion guard lock, so a delayed launch can never
unlink a new primary's lock file.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from filelock import FileLock
from filelock import Timeout as FileLockTimeout
from PySide6.QtCore import QLockFile

from aria2_core.errors import IpcError
from aria2_core.paths import AppPaths

# The lock and the doorbell have always logged together.
log = logging.getLogger("aria_tray.ipc")

# An empty or garbled lock file younger than this may be mid-creation.
UNREADABLE_LOCK_GRACE_S = 1.0
# How long one attempt waits for another launch's "try, remove, try again".
GUARD_WAIT_S = 0.5
RELEASE_GUARD_WAIT_S = 2.0


class InstanceLock:
    """The per-app-home mutex: holding it makes this process the primary.

    Keep the object alive for the life of the app: a garbage-collected
    ``QLockFile`` unlocks. The stale time is 0 because the lock is held for
    hours; staleness is instead decided by the OS lock (``flock`` on Unix, an
    exclusive handle on Windows) that dies with its holder.
    """

    def __init__(self, lock_file: str | os.PathLike[str]) -> None:
        self.path = Path(lock_file)
        self._lock = QLockFile(str(self.path))
        self._lock.setStaleLockTime(0)
        # Serialises every take, stale-removal and release of ``path`` between
        # launches; never deleted on POSIX, so it cannot suffer the same race.
        self.guard_path = self.path.with_name(self.path.name + ".guard")
        self._guard = FileLock(str(self.guard_path))

    @classmethod
    def for_paths(cls, paths: AppPaths) -> InstanceLock:
        return cls(paths.lock_file)

    @property
    def is_held(self) -> bool:
        return self._lock.isLocked()

    def try_acquire(self, wait_s: float = GUARD_WAIT_S) -> bool:
        """Take the lock without waiting for its holder; True if this object now holds it.

        With stale time 0, Qt never calls an empty or corrupt lock file (a
        crash while writing it, a full disk) or one naming a reused PID stale,
        so every launch would block forever. ``removeStaleLockFile()`` removes
        such a file but refuses while a live holder has the OS lock, so
        "try, remove if stale, try again" never steals a live primary's lock.

        That removal locks a *descriptor* and then unlinks by *path*: a launch
        held up between opening the stale file and locking it would unlink the
        new primary's lock file instead (issue 8, item 9). So the whole
        sequence, in every launch, and every release, runs under a second
        lock on a companion file that is never removed (``filelock``: flock on
        POSIX, a locked handle on Windows). ``wait_s`` bounds the wait for
        another launch's turn; a busy guard counts as "not acquired yet".
        """
        if self._lock.isLocked():
            return True
        if not self.path.parent.is_dir():  # filelock would create it: not ours to do
            raise IpcError(
                f"Cannot create the instance lock {self.path}. "
                f"Make sure the folder {self.path.parent} exists and is writable."
            )
        try:
            with self._guard.acquire(timeout=wait_s):
                return self._try_acquire_guarded()
        except FileLockTimeout:
            log.debug("another launch is taking %s; not this time", self.path)
            return False
        except OSError as exc:
            raise IpcError(
                f"Cannot use the instance lock guard {self.guard_path}: {exc}. "
                f"Make sure the folder {self.path.parent} is yours and writable."
            ) from exc

    def _try_acquire_guarded(self) -> bool:
        if self._lock.tryLock(0):
            log.debug("acquired instance lock %s", self.path)
            return True
        self._raise_if_unusable()
        named_pid = self.holder_pid()
        if named_pid is None and self._lock_file_age() < UNREADABLE_LOCK_GRACE_S:
            # Qt creates the file (O_EXCL) a moment before it takes the OS lock
            # and writes its pid. An unreadable, young file may be a winner
            # caught in that instant: removing it would make two primaries.
            log.debug("instance lock %s is unreadable but fresh; not touching it", self.path)
            return False
        if not self._lock.removeStaleLockFile():
            log.debug("instance lock %s is held (pid %s)", self.path, named_pid)
            return False
        if self._lock.tryLock(0):
            log.info(
                "recovered a stale, empty or corrupt instance lock %s (it named pid %s)",
                self.path,
                named_pid,
            )
            return True
        self._raise_if_unusable()
        return False  # another launch took it between our removal and retry

    def _lock_file_age(self) -> float:
        try:
            return max(0.0, time.time() - self.path.stat().st_mtime)
        except OSError:
            return UNREADABLE_LOCK_GRACE_S  # vanished: nothing to protect

    def _raise_if_unusable(self) -> None:
        error = self._lock.error()
        if error in (QLockFile.LockError.PermissionError, QLockFile.LockError.UnknownError):
            raise IpcError(
                f"Cannot create the instance lock {self.path} ({error.name}). "
                f"Make sure the folder {self.path.parent} exists and is writable."
            )

    def release(self) -> None:
        """Unlock; safe to call when not holding the lock, and twice.

        Qt's unlock closes the descriptor and then removes the file by path,
        so it too runs under the guard: a launch's stale-removal between the
        two would otherwise let this unlink *its* new lock file.
        """
        if not self._lock.isLocked():
            return
        try:
            with self._guard.acquire(timeout=RELEASE_GUARD_WAIT_S):
                self._lock.unlock()
        except (FileLockTimeout, OSError) as exc:
            log.warning("releasing %s without its guard (%s)", self.path, exc)
            self._lock.unlock()
        log.debug("released instance lock %s", self.path)

    def holder_pid(self) -> int | None:
        """The PID written in the lock file, or None if there is none readable.

        Only a hint for messages: the PID may be reused by an unrelated process.
        """
        pid, _host, _app = self._lock.getLockInfo()
        return pid if pid > 0 else None

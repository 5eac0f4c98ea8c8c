"""The ownership record: which aria2c process this app home started.

After a crash of the app, its aria2c may survive (a PDEATHSIG or job object
is not available everywhere, and ``--stop-with-process`` takes a second).
The next start must stop that process, and only that process. The record
stores what makes a process ours beyond doubt: its pid *and* its creation
time (a reused pid has another), plus the private conf path that appears
in its command line.

The pid is known only once aria2c runs, and an app killed in that moment
would leave an aria2c that no record names. So a record also says which app
wrote it, with that app's creation time, and stays on disk for the app's
whole engine life: announced before the first launch (:func:`announce_start`,
a *pending* record with no pid), replaced by each aria2c's record, and
removed only by a clean stop. A record left behind by a crash thus always
tells the next start "this app ran an engine here since T", and
``aria2_core.orphans`` also stops any aria2c of this home born since then.

Writes are atomic (temp file + ``os.replace``) and serialised with a
``filelock`` lock, so a reader never sees half a record, even when the app
and ``--cleanup`` race.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass

from filelock import FileLock
from filelock import Timeout as FileLockTimeout

from .atomic_file import read_bytes
from .config import write_private_file
from .errors import OwnershipError
from .paths import AppPaths

log = logging.getLogger("aria_tray.ownership")

LOCK_TIMEOUT_S = 5.0
PENDING_PID = 0  # the pid of an announced start: no aria2c recorded yet


@dataclass(frozen=True)
class OwnershipRecord:
    pid: int
    create_time: float
    exe: str
    conf_path: str
    port: int
    app_pid: int
    # The writing app's creation time (psutil's clock, like any child's); None in a
    # record written before it was kept, which then vouches for its pid alone.
    app_create_time: float | None = None

    @property
    def pending(self) -> bool:
        """A start announced before its aria2c existed."""
        return self.pid == PENDING_PID


def _lock(paths: AppPaths, timeout: float = LOCK_TIMEOUT_S) -> FileLock:
    paths.engine_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(paths.ownership_lock), timeout=timeout)


def write_record(
    paths: AppPaths, record: OwnershipRecord, lock_timeout: float = LOCK_TIMEOUT_S
) -> None:
    """Atomically replace the record. Raises ``OwnershipError`` on failure."""
    try:
        with _lock(paths, lock_timeout):
            write_private_file(paths.ownership_file, json.dumps(asdict(record), indent=1))
    except (OSError, FileLockTimeout) as exc:
        raise OwnershipError(f"Cannot write {paths.ownership_file}: {exc}") from exc


def record_started(paths: AppPaths, pid: int, exe: str, conf_path: str, port: int) -> None:
    """Record the aria2c we just started, with the creation time that proves it."""
    import psutil

    try:
        create_time = psutil.Process(pid).create_time()
    except psutil.Error as exc:
        raise OwnershipError(f"aria2c pid {pid} vanished before it was recorded: {exc}") from exc
    me = psutil.Process()
    write_record(
        paths,
        OwnershipRecord(pid, create_time, exe, conf_path, port, me.pid, me.create_time()),
    )


def announce_start(paths: AppPaths, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
    """Before the first launch: say that this app is about to run aria2c for ``paths``.

    A crash before :func:`record_started` then still leaves a record that
    names this app and its birth, which is all the next start needs.
    """
    import psutil

    me = psutil.Process()
    write_record(
        paths,
        OwnershipRecord(PENDING_PID, 0.0, "", str(paths.conf_file), 0, me.pid, me.create_time()),
        lock_timeout,
    )


def read_record(paths: AppPaths) -> OwnershipRecord | None:
    """The current record, or None when there is none or it cannot be trusted."""
    try:
        with _lock(paths):
            raw = read_bytes(paths.ownership_file)
    except FileNotFoundError:
        return None
    except (OSError, FileLockTimeout) as exc:
        raise OwnershipError(f"Cannot read {paths.ownership_file}: {exc}") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
        return OwnershipRecord(
            pid=int(data["pid"]),
            create_time=float(data["create_time"]),
            exe=str(data["exe"]),
            conf_path=str(data["conf_path"]),
            port=int(data["port"]),
            app_pid=int(data["app_pid"]),
            app_create_time=_optional_float(data.get("app_create_time")),
        )
    except (ValueError, KeyError, TypeError) as exc:
        # A corrupt record identifies nothing, so it can justify no kill.
        log.warning("ignoring corrupt ownership record %s: %s", paths.ownership_file, exc)
        return None


def _optional_float(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float | str):
        return float(value)
    raise TypeError(f"not a number: {value!r}")


def clear_record(paths: AppPaths, only_pid: int | None = None, only_app: int | None = None) -> None:
    """Remove the record; with ``only_pid`` (``only_app``), only if it still names
    that aria2c pid (was written by that app pid)."""
    try:
        with _lock(paths):
            if only_pid is not None or only_app is not None:
                try:
                    current = json.loads(read_bytes(paths.ownership_file).decode("utf-8"))
                    if only_pid is not None and int(current.get("pid", -1)) != only_pid:
                        return
                    if only_app is not None and int(current.get("app_pid", -1)) != only_app:
                        return
                except (OSError, ValueError):
                    pass
            try:
                os.remove(paths.ownership_file)
            except FileNotFoundError:
                pass
    except FileLockTimeout as exc:
        raise OwnershipError(f"Cannot clear {paths.ownership_file}: {exc}") from exc

"""Find and stop the aria2c that a crashed instance of *this app home* left.

A process is ours only when all of these agree:

* the pid is alive,
* its creation time equals the recorded one (so a reused pid is not ours),
* the record names *this* home's conf file (a copied home carries the
  original's record, which names the original's live aria2c),
* its command line carries that exact ``--conf-path=…`` argument,
* it runs as the current user (root never stops a user's aria2c, and a
  user is never shown another user's AccessDenied).

The record may name no live aria2c at all: the app died while launching, before
it knew the pid (the record is then *pending*), or after the aria2c it names
had crashed and a restart was under way (``aria2_core.ownership``). So, after
the recorded pid, the process table is read too. There a process is ours when
it carries this home's exact ``--conf-path=…``, runs as the current user and
was born no earlier than the app that wrote the record: only that app's
engine launches such a process. This only happens when a record was left,
that is after a crash, never after a clean stop.

Anything else, the user's own aria2c on port 6800 or another app's, is never
touched. There is deliberately no "kill every aria2c" anywhere in Aria Tray.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

from .config import conf_path_argument
from .ownership import OwnershipRecord, clear_record, read_record
from .paths import AppPaths
from .process_tree import wait_gone

log = logging.getLogger("aria_tray.orphans")

# psutil reports create_time from jiffies since boot: stable, but a float.
_CREATE_TIME_TOLERANCE_S = 0.05


@dataclass(frozen=True)
class OrphanReport:
    """What a cleanup found and did, in words a person can read."""

    pid: int | None
    action: str  # "killed", "terminated", "denied", "none", "stale-record"
    detail: str


def _same_path(a: str | Path, b: str | Path) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def runs_as_current_user(proc: psutil.Process) -> bool:
    """True when ``proc`` runs as us: the effective uid on POSIX, the account on Windows.

    On Windows an account we cannot read (another user's process while we
    are not an administrator, or Wine, which lacks the call) does not decide:
    the conf path, inside this user's own app home, already does, and a
    process we may not end refuses with AccessDenied, which is handled.
    """
    if sys.platform == "win32":
        try:
            return bool(proc.username() == psutil.Process().username())
        except (psutil.Error, OSError):
            return True
    return bool(proc.uids().effective == os.geteuid())


def is_owned(proc: psutil.Process, record: OwnershipRecord, paths: AppPaths) -> bool:
    """True when ``proc`` is, beyond doubt, the aria2c that ``record`` in ``paths`` describes."""
    if not _same_path(record.conf_path, paths.conf_file):
        return False  # a record copied from another home names that home's aria2c
    try:
        if proc.pid != record.pid:
            return False
        if abs(proc.create_time() - record.create_time) > _CREATE_TIME_TOLERANCE_S:
            return False
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if not runs_as_current_user(proc):
            return False
        return conf_path_argument(paths.conf_file) in proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def find_unrecorded_orphans(paths: AppPaths, record: OwnershipRecord) -> list[psutil.Process]:
    """This home's aria2c processes born since the app that wrote ``record``.

    Empty for a record of another home (a copied one) or one that does not
    say when its app was born (written by an older version).
    """
    born_since = record.app_create_time
    if born_since is None or not _same_path(record.conf_path, paths.conf_file):
        return []
    wanted = conf_path_argument(paths.conf_file)
    found = []
    for proc in psutil.process_iter(["cmdline", "create_time"]):
        try:
            if wanted not in (proc.info["cmdline"] or []):
                continue
            if proc.info["create_time"] < born_since - _CREATE_TIME_TOLERANCE_S:
                continue
            if proc.status() == psutil.STATUS_ZOMBIE or not runs_as_current_user(proc):
                continue
            found.append(proc)
        except (psutil.Error, TypeError):
            continue
    return found


def find_verified_orphan(paths: AppPaths) -> psutil.Process | None:
    """The live aria2c that the record names and that passes every check."""
    record = read_record(paths)
    if record is None or record.pending:
        return None
    try:
        proc = psutil.Process(record.pid)
    except psutil.NoSuchProcess:
        return None
    return proc if is_owned(proc, record, paths) else None


def stop_process(proc: psutil.Process, grace_s: float = 3.0) -> str:
    """SIGTERM first (aria2c then saves its session), SIGKILL if it lingers.

    Returns "terminated", "killed", or "denied" when the system refused
    (a process we may not signal is left alone, with a log line, not a traceback).
    """
    try:
        proc.terminate()
    except psutil.NoSuchProcess:
        return "terminated"
    except psutil.AccessDenied:
        log.warning("not allowed to stop pid %s; leaving it alone", proc.pid)
        return "denied"
    if wait_gone(proc, grace_s):
        return "terminated"
    try:
        proc.kill()
    except psutil.NoSuchProcess:
        return "terminated"
    except psutil.AccessDenied:
        log.warning("not allowed to kill pid %s; leaving it alone", proc.pid)
        return "denied"
    if not wait_gone(proc, grace_s):
        log.error("aria2c pid %s did not die after SIGKILL", proc.pid)
    return "killed"


def cleanup_orphan(paths: AppPaths) -> OrphanReport:
    """Stop what a crashed instance of this app home left running, and clear its record.

    That is the verified aria2c the record names, and then any aria2c of this
    home born since the app that wrote the record (see the module's words).
    The caller must hold the instance lock: a live primary's aria2c is not
    an orphan, and the record would name it.
    """
    record = read_record(paths)
    if record is None:
        return OrphanReport(None, "none", "no ownership record: nothing was started here")
    stopped: dict[int, str] = {}
    proc = find_verified_orphan(paths)
    if proc is not None:
        stopped[proc.pid] = stop_process(proc)
    for proc in find_unrecorded_orphans(paths, record):
        if proc.pid not in stopped:
            stopped[proc.pid] = stop_process(proc)
    pids = ", ".join(str(pid) for pid in stopped)
    if "denied" in stopped.values():
        detail = f"orphaned aria2c pid {pids} could not be stopped: access denied"
        return OrphanReport(next(iter(stopped)), "denied", detail)
    clear_record(paths, only_pid=record.pid)
    if not stopped:
        what = (
            "an announced start left no aria2c"
            if record.pending
            else f"the recorded aria2c (pid {record.pid}) is gone or is not ours"
        )
        return OrphanReport(record.pid, "stale-record", f"{what}; record cleared")
    action = "killed" if "killed" in stopped.values() else "terminated"
    log.info("stopped orphaned aria2c pid %s (%s)", pids, action)
    return OrphanReport(next(iter(stopped)), action, f"orphaned aria2c pid {pids} {action}")

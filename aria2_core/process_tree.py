"""The processes below one we started, and how to see them end.

``ARIA_TRAY_ARIA2C`` may name a wrapper script that runs aria2c without
``exec``: the process we started is then a shell, and the aria2c that
listens on the RPC port is its child. Readiness therefore accepts a
listener anywhere in our process's tree, and stopping signals the whole
tree, or each retry would leave a live aria2c behind.

Everything here works from pids through psutil, so it runs the same on
Linux, macOS and Windows (where the Job Object also ends the tree when the
app dies).
"""

from __future__ import annotations

import logging
import time

import psutil

from .ports import listening_addresses

log = logging.getLogger("aria_tray.process_tree")


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def descendants(pid: int) -> list[psutil.Process]:
    """Live children, grandchildren, … of ``pid`` (empty when it is gone)."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    return [c for c in children if _alive(c)]


def tree_listener(pid: int, port: int) -> tuple[int | None, set[str]]:
    """Which process of ``pid``'s tree listens on TCP ``port``, and on which addresses.

    ``pid`` itself is asked first: with a plain aria2c (or one that a wrapper
    ``exec``'d) that is the only process there is.
    """
    for candidate in [pid, *(c.pid for c in descendants(pid))]:
        addresses = listening_addresses(candidate, port)
        if addresses:
            return candidate, addresses
    return None, set()


def wait_gone(proc: psutil.Process, timeout_s: float) -> bool:
    """True once ``proc`` has exited, a zombie counting as exited.

    ``psutil.Process.wait`` cannot reap a process that is not our child, so
    for an orphan it waits until *someone else* reaps it, and in some
    sandboxes PID 1 never does: the dead orphan would look alive forever.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def signal_all(procs: list[psutil.Process], kill: bool) -> None:
    """SIGTERM (``kill`` False: aria2c then saves its session) or SIGKILL each one."""
    for proc in procs:
        try:
            proc.kill() if kill else proc.terminate()
        except psutil.NoSuchProcess:
            continue
        except psutil.AccessDenied:
            log.warning("not allowed to signal pid %s; leaving it alone", proc.pid)


def end_all(procs: list[psutil.Process], grace_s: float) -> list[int]:
    """SIGTERM each live one, wait up to ``grace_s``, SIGKILL the rest; the pids killed."""
    live = [p for p in procs if _alive(p)]
    signal_all(live, kill=False)
    deadline = time.monotonic() + grace_s
    lingering = [p for p in live if not wait_gone(p, max(0.0, deadline - time.monotonic()))]
    signal_all(lingering, kill=True)
    for proc in lingering:
        if not wait_gone(proc, 2.0):
            log.error("pid %s did not die after SIGKILL", proc.pid)
    return [p.pid for p in lingering]

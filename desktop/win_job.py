"""Windows: put aria2c in a Job Object that dies with the app.

With ``JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`` the kernel terminates every
process in the job when the last handle to it closes, and the app's handle
closes when the app dies, however it dies. Termination saves nothing, so
the engine relies on ``--save-session-interval`` and explicit
``aria2.saveSession`` calls after changes to keep the queue.

The handle is kept for the life of the app: closing it would kill aria2c.
Only ``ctypes`` is used, so this imports (and does nothing) elsewhere.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from ctypes import wintypes

log = logging.getLogger("aria_tray.engine")

JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
PROCESS_SET_QUOTA = 0x0100
PROCESS_TERMINATE = 0x0001


class _IoCounters(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_ulonglong)
        for name in (
            "ReadOperationCount",
            "WriteOperationCount",
            "OtherOperationCount",
            "ReadTransferCount",
            "WriteTransferCount",
            "OtherTransferCount",
        )
    ]


class _BasicLimitInformation(ctypes.Structure):
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_longlong),
        ("PerJobUserTimeLimit", ctypes.c_longlong),
        ("LimitFlags", wintypes.DWORD),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", wintypes.DWORD),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", wintypes.DWORD),
        ("SchedulingClass", wintypes.DWORD),
    ]


class _ExtendedLimitInformation(ctypes.Structure):
    _fields_ = [
        ("BasicLimitInformation", _BasicLimitInformation),
        ("IoInfo", _IoCounters),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


def _create_job() -> int | None:
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        log.error("CreateJobObjectW failed: %d", ctypes.get_last_error())  # type: ignore[attr-defined]
        return None
    info = _ExtendedLimitInformation()
    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    ok = kernel32.SetInformationJobObject(
        wintypes.HANDLE(job),
        JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
        ctypes.byref(info),
        ctypes.sizeof(info),
    )
    if not ok:
        log.error("SetInformationJobObject failed: %d", ctypes.get_last_error())  # type: ignore[attr-defined]
        kernel32.CloseHandle(wintypes.HANDLE(job))
        return None
    return int(job)


def assign_kill_on_close_job(pid: int, job: object | None = None) -> object | None:
    """Put ``pid`` into our kill-on-close job (created on first use); return the job.

    Returns None, after logging, when anything fails: aria2c then still has
    ``--stop-with-process`` as its tie to our life.
    """
    if sys.platform != "win32":
        return None
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    if job is None:
        job = _create_job()
        if job is None:
            return None
    kernel32.OpenProcess.restype = wintypes.HANDLE
    handle = kernel32.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
    if not handle:
        log.error("OpenProcess(%d) failed: %d", pid, ctypes.get_last_error())  # type: ignore[attr-defined]
        return job
    try:
        if not kernel32.AssignProcessToJobObject(wintypes.HANDLE(job), wintypes.HANDLE(handle)):
            log.error(
                "AssignProcessToJobObject(%d) failed: %d",
                pid,
                ctypes.get_last_error(),  # type: ignore[attr-defined]
            )
    finally:
        kernel32.CloseHandle(wintypes.HANDLE(handle))
    return job

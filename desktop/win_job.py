"""Windows: aria2c lives in a Job Object that dies with the app.

With ``JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`` the kernel terminates every
process in the job when the last handle to it closes, and the app's handle
closes when the app dies, however it dies. Termination saves nothing, so
the engine relies on ``--save-session-interval`` and explicit
``aria2.saveSession`` calls after changes to keep the queue.

The primary puts *itself* in the job at start-up (:func:`contain_app`), so
aria2c is born inside it: a child inherits its parent's job at
``CreateProcess``. Assigning aria2c after ``QProcess`` has started it
would leave a window in which an app crash orphans it. Everything else
the app starts (a downloaded file opened with its program, Explorer) must
outlive the app, so the job has ``JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK``
(children are born outside) except for the instant the engine starts
aria2c inside :func:`children_in_job`. Both run on the GUI thread, the only
thread that starts processes, so nothing else is started in that instant.

Points checked against the Win32 documentation:

* the structures match ``JOBOBJECT_EXTENDED_LIMIT_INFORMATION`` /
  ``JOBOBJECT_BASIC_LIMIT_INFORMATION`` / ``IO_COUNTERS`` field for field,
  and ``JobObjectExtendedLimitInformation`` is information class 9;
* ``AssignProcessToJobObject`` needs a process handle with
  ``PROCESS_SET_QUOTA | PROCESS_TERMINATE``. Since Windows 8 a process that
  is already in a job (say, the app was started from a job-using launcher
  or CI runner) can still be added: the jobs nest;
* the job handle must **not** be inheritable. ``QProcess`` calls
  ``CreateProcess`` with ``bInheritHandles=TRUE``, so an inheritable job
  handle would be copied into aria2c, the job would never lose its last
  handle while aria2c lives, and kill-on-close would never fire.
  ``CreateJobObjectW(NULL, NULL)`` (no ``SECURITY_ATTRIBUTES``) gives a
  non-inheritable handle, which is what we want.

The handle is kept for the life of the app: closing it would kill aria2c.
Only ``ctypes`` is used, so this imports (and does nothing) elsewhere.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from ctypes import wintypes
from typing import Any

log = logging.getLogger("aria_tray.engine")

JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK = 0x00001000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9  # JobObjectExtendedLimitInformation
PROCESS_SET_QUOTA = 0x0100
PROCESS_TERMINATE = 0x0001
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
PROCESS_QUERY_INFORMATION = 0x0400


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
        ("PerProcessUserTimeLimit", ctypes.c_longlong),  # LARGE_INTEGER
        ("PerJobUserTimeLimit", ctypes.c_longlong),  # LARGE_INTEGER
        ("LimitFlags", wintypes.DWORD),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", wintypes.DWORD),
        ("Affinity", ctypes.c_size_t),  # ULONG_PTR
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


_kernel32: Any = None


def _k32() -> Any:
    """kernel32 with explicit signatures: 64-bit handles must not pass as C ints."""
    global _kernel32
    if sys.platform != "win32":
        raise OSError("job objects exist only on Windows")
    if _kernel32 is None:
        k = ctypes.WinDLL("kernel32", use_last_error=True)
        k.CreateJobObjectW.argtypes = [wintypes.LPVOID, wintypes.LPCWSTR]
        k.CreateJobObjectW.restype = wintypes.HANDLE
        k.SetInformationJobObject.argtypes = [
            wintypes.HANDLE,
            ctypes.c_int,
            wintypes.LPVOID,
            wintypes.DWORD,
        ]
        k.SetInformationJobObject.restype = wintypes.BOOL
        k.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
        k.OpenProcess.restype = wintypes.HANDLE
        k.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
        k.AssignProcessToJobObject.restype = wintypes.BOOL
        k.IsProcessInJob.argtypes = [
            wintypes.HANDLE,
            wintypes.HANDLE,
            ctypes.POINTER(wintypes.BOOL),
        ]
        k.IsProcessInJob.restype = wintypes.BOOL
        k.CloseHandle.argtypes = [wintypes.HANDLE]
        k.CloseHandle.restype = wintypes.BOOL
        k.GetCurrentProcess.argtypes = []
        k.GetCurrentProcess.restype = wintypes.HANDLE
        _kernel32 = k
    return _kernel32


def _last_error() -> int:
    if sys.platform != "win32":
        raise OSError("GetLastError exists only on Windows")
    return int(ctypes.get_last_error())


def _set_limits(job: object, flags: int) -> bool:
    info = _ExtendedLimitInformation()
    info.BasicLimitInformation.LimitFlags = flags
    ok = _k32().SetInformationJobObject(
        job,
        JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
        ctypes.byref(info),
        ctypes.sizeof(info),
    )
    if not ok:
        log.error("SetInformationJobObject(0x%x) failed: %d", flags, _last_error())
    return bool(ok)


def create_kill_on_close_job(flags: int = 0) -> int | None:
    """A new, non-inheritable job whose processes die when its last handle closes."""
    if sys.platform != "win32":
        return None
    kernel32 = _k32()
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        log.error("CreateJobObjectW failed: %d", _last_error())
        return None
    if not _set_limits(job, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | flags):
        kernel32.CloseHandle(job)
        return None
    return int(job)


_app_job: int | None = None


def contain_app() -> int | None:
    """Put this process in a kill-on-close job (once); return the job, None if impossible.

    Call it at start-up, before any child is started. The handle is never
    closed: closing it would kill this process. On failure (logged) the
    engine falls back to :func:`assign_kill_on_close_job` after start.
    """
    global _app_job
    if sys.platform != "win32" or _app_job is not None:
        return _app_job
    job = create_kill_on_close_job(JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK)
    if job is None:
        return None
    kernel32 = _k32()
    if not kernel32.AssignProcessToJobObject(job, kernel32.GetCurrentProcess()):
        log.error("AssignProcessToJobObject(self) failed: %d", _last_error())
        kernel32.CloseHandle(job)
        return None
    _app_job = job
    log.debug("the app runs in kill-on-close job %#x", job)
    return job


def app_job() -> int | None:
    """The job :func:`contain_app` made, if it did."""
    return _app_job


@contextmanager
def children_in_job() -> Iterator[bool]:
    """Processes started in this block are born in the app's job; yields whether they are."""
    job = _app_job
    if job is None or not _set_limits(job, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE):
        yield False
        return
    try:
        yield True
    finally:
        _set_limits(job, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK)


def assign_kill_on_close_job(pid: int, job: object | None = None) -> object | None:
    """Put ``pid`` into our kill-on-close job (created on first use); return the job.

    Returns None, after logging, when the job cannot be created: aria2c
    then still has ``--stop-with-process`` as its tie to our life.
    """
    if sys.platform != "win32":
        return None
    if job is None:
        job = create_kill_on_close_job()
        if job is None:
            return None
    kernel32 = _k32()
    handle = kernel32.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
    if not handle:
        log.error("OpenProcess(%d) failed: %d", pid, _last_error())
        return job
    try:
        if not kernel32.AssignProcessToJobObject(job, handle):
            log.error("AssignProcessToJobObject(%d) failed: %d", pid, _last_error())
    finally:
        kernel32.CloseHandle(handle)
    return job


def is_process_in_job(pid: int, job: object) -> bool:
    """``IsProcessInJob``: whether ``pid`` belongs to ``job`` (for tests and diagnostics)."""
    if sys.platform != "win32":
        return False
    kernel32 = _k32()
    # Windows accepts either right for IsProcessInJob; Wine only PROCESS_QUERY_INFORMATION,
    # which our own children grant. The limited right stays as the fallback (protected
    # processes refuse the full one).
    handle = kernel32.OpenProcess(PROCESS_QUERY_INFORMATION, False, pid) or kernel32.OpenProcess(
        PROCESS_QUERY_LIMITED_INFORMATION, False, pid
    )
    if not handle:
        return False
    try:
        result = wintypes.BOOL(False)
        if not kernel32.IsProcessInJob(handle, job, ctypes.byref(result)):
            return False
        return bool(result.value)
    finally:
        kernel32.CloseHandle(handle)


def close_job(job: object) -> None:
    """Close our handle to ``job``: with kill-on-close, its processes end now."""
    if sys.platform == "win32" and job:
        _k32().CloseHandle(job)

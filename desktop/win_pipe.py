r"""Windows: our IPC pipe name is ours alone, and the server a launch talks to is us.

Named pipes live in one machine-wide namespace (``\\.\pipe\``), and our name
is predictable (user SID + a hash of the home). ``QLocalServer`` does not
guard it (qlocalserver_win.cpp, ``addListener``): it calls ``CreateNamedPipe``
without ``FILE_FLAG_FIRST_PIPE_INSTANCE``, so when another program created
the name first and its security descriptor lets us add instances (a NULL
DACL does), ``listen()`` succeeds and *joins* that program's pipe. Clients
then reach its instances or ours at random: our links, ``--quit`` and
``--status`` could go to a stranger, who could answer them. With
``UserAccessOption`` Qt gives our own instances a DACL granting only our
user, but Windows applies the descriptor of a pipe's *first* instance, so
that protects us only when we were first.

Two checks close this:

* :func:`claim_pipe_name`, before ``listen()``: if the name exists
  (``WaitNamedPipe`` finds it), the app refuses to start with a clear
  message instead of sharing; then it creates the first instance itself
  with ``FILE_FLAG_FIRST_PIPE_INSTANCE`` and a user-only DACL, which fails
  if someone created the name in between. The claim is held until
  ``listen()`` has made Qt's instances (which then carry our DACL, so
  nobody else can add one) and closed after: no window in which another
  user could slip in. (Wine 8 ignores ``FILE_FLAG_FIRST_PIPE_INSTANCE``;
  the ``WaitNamedPipe`` check is what the tests under Wine see work.)
* :func:`server_is_ours`, in a second launch: the process serving the pipe
  must run as our user (``GetNamedPipeServerProcessId`` + its token SID).

Only ``ctypes``: this imports (and does nothing) elsewhere.
"""

from __future__ import annotations

import ctypes
import sys
from ctypes import wintypes
from typing import Any

from aria2_core.errors import IpcError
from aria2_core.win_user import current_user_sid, process_user_sid

PIPE_PREFIX = "\\\\.\\pipe\\"
PIPE_ACCESS_DUPLEX = 0x00000003
FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00080000
PIPE_TYPE_BYTE = 0x0
PIPE_REJECT_REMOTE_CLIENTS = 0x00000008
PIPE_UNLIMITED_INSTANCES = 255
INVALID_HANDLE_VALUE = ctypes.c_void_p(-1).value
ERROR_FILE_NOT_FOUND = 2
ERROR_ACCESS_DENIED = 5
ERROR_PIPE_BUSY = 231
SDDL_REVISION_1 = 1


class _SecurityAttributes(ctypes.Structure):
    _fields_ = [
        ("nLength", wintypes.DWORD),
        ("lpSecurityDescriptor", wintypes.LPVOID),
        ("bInheritHandle", wintypes.BOOL),
    ]


_api: Any = None


def _dlls() -> Any:
    global _api
    if sys.platform != "win32":
        raise IpcError("named pipes with a private DACL are Windows-only")
    if _api is None:
        k32 = ctypes.WinDLL("kernel32", use_last_error=True)
        adv = ctypes.WinDLL("advapi32", use_last_error=True)
        k32.CreateNamedPipeW.argtypes = [
            wintypes.LPCWSTR,
            wintypes.DWORD,
            wintypes.DWORD,
            wintypes.DWORD,
            wintypes.DWORD,
            wintypes.DWORD,
            wintypes.DWORD,
            ctypes.POINTER(_SecurityAttributes),
        ]
        k32.CreateNamedPipeW.restype = wintypes.HANDLE
        k32.GetNamedPipeServerProcessId.argtypes = [
            wintypes.HANDLE,
            ctypes.POINTER(wintypes.ULONG),
        ]
        k32.GetNamedPipeServerProcessId.restype = wintypes.BOOL
        k32.WaitNamedPipeW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD]
        k32.WaitNamedPipeW.restype = wintypes.BOOL
        k32.CloseHandle.argtypes = [wintypes.HANDLE]
        k32.CloseHandle.restype = wintypes.BOOL
        k32.LocalFree.argtypes = [wintypes.HLOCAL]
        k32.LocalFree.restype = wintypes.HLOCAL
        adv.ConvertStringSecurityDescriptorToSecurityDescriptorW.argtypes = [
            wintypes.LPCWSTR,
            wintypes.DWORD,
            ctypes.POINTER(wintypes.LPVOID),
            ctypes.POINTER(wintypes.ULONG),
        ]
        adv.ConvertStringSecurityDescriptorToSecurityDescriptorW.restype = wintypes.BOOL
        _api = (k32, adv)
    return _api


def full_pipe_name(server_name: str) -> str:
    """What ``QLocalServer`` makes of a name: ``\\\\.\\pipe\\`` in front unless already there."""
    return server_name if server_name.startswith(PIPE_PREFIX) else PIPE_PREFIX + server_name


def claim_pipe_name(server_name: str) -> int | None:
    """Create the pipe's first instance, user-only; return its handle (None off Windows).

    Raises :class:`IpcError` when the name already exists: another program
    made it (ours would have closed with the instance lock's last holder).
    """
    if sys.platform != "win32":
        return None
    k32, adv = _dlls()
    full_name = full_pipe_name(server_name)
    # Any instance, free (TRUE) or busy (ERROR_SEM_TIMEOUT), means the name exists.
    if k32.WaitNamedPipeW(full_name, 1) or ctypes.get_last_error() != ERROR_FILE_NOT_FOUND:
        raise _taken(full_name)
    # Protected DACL: full access for our SID only (what UserAccessOption gives Qt's instances).
    sddl = f"D:P(A;;GA;;;{current_user_sid()})"
    descriptor = wintypes.LPVOID()
    if not adv.ConvertStringSecurityDescriptorToSecurityDescriptorW(
        sddl, SDDL_REVISION_1, ctypes.byref(descriptor), None
    ):
        raise IpcError(f"Cannot build the pipe's security descriptor: {ctypes.get_last_error()}")
    try:
        attributes = _SecurityAttributes(ctypes.sizeof(_SecurityAttributes), descriptor, False)
        handle = k32.CreateNamedPipeW(
            full_name,
            PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE,
            PIPE_TYPE_BYTE | PIPE_REJECT_REMOTE_CLIENTS,
            PIPE_UNLIMITED_INSTANCES,
            0,
            0,
            0,
            ctypes.byref(attributes),
        )
        error = ctypes.get_last_error()
    finally:
        k32.LocalFree(descriptor)
    if not handle or handle == INVALID_HANDLE_VALUE:
        if error in (ERROR_ACCESS_DENIED, ERROR_PIPE_BUSY):
            raise _taken(full_name)
        raise IpcError(f"Cannot create the pipe {full_name}: error {error}")
    return int(handle)


def _taken(full_name: str) -> IpcError:
    return IpcError(
        f"Another program already serves the pipe {full_name}; Aria Tray will not share it. "
        "Sign out and back in (or restart Windows) to end that program, then start Aria Tray."
    )


def release_claim(handle: int | None) -> None:
    """Close the claim instance once ``QLocalServer`` has its own instances."""
    if sys.platform == "win32" and handle:
        _dlls()[0].CloseHandle(handle)


def pipe_server_pid(handle: int) -> int | None:
    """The PID of the process that serves the pipe a client ``handle`` is connected to."""
    if sys.platform != "win32":
        return None
    pid = wintypes.ULONG(0)
    if not _dlls()[0].GetNamedPipeServerProcessId(handle, ctypes.byref(pid)):
        return None
    return int(pid.value) or None


def server_is_ours(handle: int) -> bool:
    """True when the pipe's server runs as our user; False when it is anyone else's."""
    if sys.platform != "win32":
        return True
    pid = pipe_server_pid(handle)
    return pid is not None and process_user_sid(pid) == current_user_sid()

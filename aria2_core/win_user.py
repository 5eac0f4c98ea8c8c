"""Windows: who a process runs as, by security identifier (SID).

The user name in ``USERNAME`` (what ``getpass.getuser()`` reads) is just an
environment variable: any launcher can set it, and two accounts can show
the same one. The SID in a process's access token is what Windows itself
checks, so per-user names (the IPC pipe) and "is that server mine?"
(``desktop.win_pipe``) use it.

Only ``ctypes``: this imports (and does nothing) elsewhere.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from ctypes import wintypes
from typing import Any

TOKEN_QUERY = 0x0008
TOKEN_USER_CLASS = 1  # TokenUser
PROCESS_QUERY_INFORMATION = 0x0400

_api: Any = None


def _dlls() -> Any:
    """advapi32/kernel32 with explicit signatures: 64-bit handles must not pass as C ints."""
    global _api
    if sys.platform != "win32":
        raise OSError("advapi32 exists only on Windows")
    if _api is None:
        adv = ctypes.WinDLL("advapi32", use_last_error=True)
        k32 = ctypes.WinDLL("kernel32", use_last_error=True)
        adv.OpenProcessToken.argtypes = [
            wintypes.HANDLE,
            wintypes.DWORD,
            ctypes.POINTER(wintypes.HANDLE),
        ]
        adv.OpenProcessToken.restype = wintypes.BOOL
        adv.GetTokenInformation.argtypes = [
            wintypes.HANDLE,
            ctypes.c_int,
            wintypes.LPVOID,
            wintypes.DWORD,
            ctypes.POINTER(wintypes.DWORD),
        ]
        adv.GetTokenInformation.restype = wintypes.BOOL
        adv.ConvertSidToStringSidW.argtypes = [wintypes.LPVOID, ctypes.POINTER(wintypes.LPWSTR)]
        adv.ConvertSidToStringSidW.restype = wintypes.BOOL
        k32.GetCurrentProcess.argtypes = []
        k32.GetCurrentProcess.restype = wintypes.HANDLE
        k32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
        k32.OpenProcess.restype = wintypes.HANDLE
        k32.CloseHandle.argtypes = [wintypes.HANDLE]
        k32.CloseHandle.restype = wintypes.BOOL
        k32.LocalFree.argtypes = [wintypes.HLOCAL]
        k32.LocalFree.restype = wintypes.HLOCAL
        _api = (adv, k32)
    return _api


def _token_user_sid(process: int) -> str:
    """The string SID (``S-1-5-21-…``) of the user in ``process``'s token."""
    if sys.platform != "win32":
        raise OSError("access tokens exist only on Windows")
    adv, k32 = _dlls()
    token = wintypes.HANDLE()
    if not adv.OpenProcessToken(process, TOKEN_QUERY, ctypes.byref(token)):
        raise ctypes.WinError(ctypes.get_last_error())
    try:
        size = wintypes.DWORD(0)
        adv.GetTokenInformation(token, TOKEN_USER_CLASS, None, 0, ctypes.byref(size))
        buffer = ctypes.create_string_buffer(max(size.value, 1))
        if not adv.GetTokenInformation(
            token, TOKEN_USER_CLASS, buffer, size.value, ctypes.byref(size)
        ):
            raise ctypes.WinError(ctypes.get_last_error())
        # TOKEN_USER starts with SID_AND_ATTRIBUTES, whose first field is the PSID.
        sid = ctypes.cast(buffer, ctypes.POINTER(wintypes.LPVOID))[0]
        text = wintypes.LPWSTR()
        if not adv.ConvertSidToStringSidW(sid, ctypes.byref(text)):
            raise ctypes.WinError(ctypes.get_last_error())
        try:
            return str(text.value)
        finally:
            k32.LocalFree(ctypes.cast(text, wintypes.HLOCAL))
    finally:
        k32.CloseHandle(token)


@functools.cache
def current_user_sid() -> str:
    """This process's user SID. Raises ``OSError`` (never on a normal Windows)."""
    if sys.platform != "win32":
        raise OSError("SIDs exist on Windows only")
    _adv, k32 = _dlls()
    return _token_user_sid(k32.GetCurrentProcess())


def process_user_sid(pid: int) -> str | None:
    """The user SID of process ``pid``, or None when we may not look (another user's)."""
    if sys.platform != "win32":
        return None
    _adv, k32 = _dlls()
    handle = k32.OpenProcess(PROCESS_QUERY_INFORMATION, False, pid)
    if not handle:
        return None
    try:
        return _token_user_sid(handle)
    except OSError:
        return None
    finally:
        k32.CloseHandle(handle)

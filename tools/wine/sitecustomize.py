"""Wine-only shims for a Windows CPython running under Wine 8 (Debian bookworm).

Installed as sitecustomize.py; also usable as a PyInstaller runtime hook. Inert on
real Windows (checks ntdll for ``wine_get_version``); ARIA_TRAY_WINE_SHIMS=0 turns it off.

1. NtQuerySystemInformation(SystemProcessIdInformation) is unimplemented, so
   psutil.Process.name()/.exe() raise OSError [WinError 87]: answer with
   QueryFullProcessImageNameW instead.
2. Wine's TCP table gives owning PID 0 for most sockets (they live in wineserver),
   and now and then another process's PID, so psutil.Process(pid).net_connections()
   is empty or partial (Aria Tray's readiness probe then waits forever, or sees
   "::1 only" and retries). Under this shim a per-process query returns *every*
   row of the system table: "does pid P listen on port N" becomes "does anyone".
   Also retries GetExtendedTcpTable when the table grew between psutil's two calls.
"""

import os
import sys


def _under_wine():
    if sys.platform != "win32":
        return False
    try:
        import ctypes

        return hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")
    except Exception:
        return False


def _install():
    import ctypes
    from ctypes import wintypes

    try:
        from psutil import _psutil_windows as cext
    except Exception:
        return
    k32 = ctypes.WinDLL("kernel32", use_last_error=True)
    k32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    k32.OpenProcess.restype = wintypes.HANDLE
    k32.QueryFullProcessImageNameW.argtypes = [
        wintypes.HANDLE,
        wintypes.DWORD,
        wintypes.LPWSTR,
        ctypes.POINTER(wintypes.DWORD),
    ]
    k32.QueryFullProcessImageNameW.restype = wintypes.BOOL
    k32.CloseHandle.argtypes = [wintypes.HANDLE]
    original_exe = cext.proc_exe
    original_conns = cext.net_connections

    def proc_exe(pid):
        try:
            return original_exe(pid)
        except OSError as exc:
            if getattr(exc, "winerror", None) != 87:
                raise
        handle = k32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            err = ctypes.get_last_error()
            if err == 5:
                raise PermissionError(13, "access denied", None, 5)
            raise ProcessLookupError(3, "no such process", None, err)
        try:
            size = wintypes.DWORD(32768)
            buf = ctypes.create_unicode_buffer(size.value)
            if not k32.QueryFullProcessImageNameW(handle, 0, buf, ctypes.byref(size)):
                raise ctypes.WinError(ctypes.get_last_error())
            return buf.value
        finally:
            k32.CloseHandle(handle)

    def system_table(families, types):
        for attempt in range(10):
            try:
                return original_conns(-1, families, types)
            except RuntimeError:
                if attempt == 9:
                    raise

    def net_connections(pid, families, types):
        # Wine cannot say reliably which process owns a socket: give a
        # per-process query every row (see 2. above).
        return system_table(families, types)

    cext.proc_exe = proc_exe
    cext.net_connections = net_connections


if os.environ.get("ARIA_TRAY_WINE_SHIMS", "1") != "0" and _under_wine():
    # 3. CPython 3.12+ platform.* asks WMI (_wmi), which in Wine 8 ends in the
    #    unimplemented propsys.VariantToString and aborts the process; without
    #    _wmi, platform uses its registry/GetVersionEx fallback.
    sys.modules.setdefault("_wmi", None)
    _install()

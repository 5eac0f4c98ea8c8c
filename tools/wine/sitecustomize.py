r"""Wine-only shims for a Windows CPython running under Wine 8 (Debian bookworm).

Installed as sitecustomize.py; also usable as a PyInstaller runtime hook. Inert on
real Windows (checks ntdll for ``wine_get_version``); ARIA_TRAY_WINE_SHIMS=0 turns it off.

1. NtQuerySystemInformation(SystemProcessIdInformation) is unimplemented, so
   psutil.Process.name()/.exe() raise OSError [WinError 87]: answer with
   QueryFullProcessImageNameW instead.
2. Wine's TCP table (GetExtendedTcpTable, via nsiproxy) gives owning PID 0 for
   most sockets, now and then another process's PID, and costs seconds per call
   (it looks for each row's owner among every Linux process's fds). Under this
   shim TCP rows come straight from the Linux kernel's /proc/net/tcp and tcp6
   (read through Wine's \\?\unix\ path; there is no Z: drive), about 10 ms,
   and a per-process query returns *every* row: "does pid P listen on port N"
   becomes "does anyone". Tests that need socket owners say they can't run here.
   UDP queries still go to Wine.
3. CPython 3.12+ platform.* asks WMI (_wmi), which in Wine 8 ends in the
   unimplemented propsys.VariantToString and aborts the process; without _wmi,
   platform uses its registry/GetVersionEx fallback.
"""

import os
import sys


def _under_wine():
    """Wine keeps its own settings under HKLM\\Software\\Wine; Windows has no such key."""
    if sys.platform != "win32":
        return False
    import winreg

    try:
        winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"Software\Wine").Close()
        return True
    except OSError:
        return False


class _PatchPsutilOnImport:
    """Patch psutil's C module when (if ever) it is imported: importing psutil and
    ctypes here, in every Python start-up, would add about a second to each under Wine."""

    name = "psutil._psutil_windows"

    def find_spec(self, name, path, target=None):
        if name != self.name:
            return None
        for finder in sys.meta_path:
            spec = None if finder is self else finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _Loader(spec.loader)
                return spec
        return None


class _Loader:
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        _install(module)


def _install(cext):
    import ctypes
    from ctypes import wintypes

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

    import socket

    # /proc/net/tcp "st" -> psutil's Windows constants (MIB_TCP_STATE_*).
    states = {
        "01": cext.MIB_TCP_STATE_ESTAB,
        "02": cext.MIB_TCP_STATE_SYN_SENT,
        "03": cext.MIB_TCP_STATE_SYN_RCVD,
        "04": cext.MIB_TCP_STATE_FIN_WAIT1,
        "05": cext.MIB_TCP_STATE_FIN_WAIT2,
        "06": cext.MIB_TCP_STATE_TIME_WAIT,
        "07": cext.MIB_TCP_STATE_CLOSED,
        "08": cext.MIB_TCP_STATE_CLOSE_WAIT,
        "09": cext.MIB_TCP_STATE_LAST_ACK,
        "0A": cext.MIB_TCP_STATE_LISTEN,
        "0B": cext.MIB_TCP_STATE_CLOSING,
    }

    def address(text, family):
        host, port = text.split(":")
        raw = bytes.fromhex(host)
        # The kernel prints each 32-bit word in host (little-endian) order.
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
        return socket.inet_ntop(family, raw), int(port, 16)

    def tcp_rows(families, pid):
        rows = []
        for family, name in ((socket.AF_INET, "tcp"), (socket.AF_INET6, "tcp6")):
            if family not in families:
                continue
            with open("\\\\?\\unix\\proc\\net\\" + name, encoding="ascii") as table:
                next(table)
                for line in table:
                    fields = line.split()
                    laddr = address(fields[1], family)
                    raddr = address(fields[2], family)
                    state = states.get(fields[3], cext.PSUTIL_CONN_NONE)
                    remote = raddr if raddr[1] else ()
                    rows.append((-1, family, socket.SOCK_STREAM, laddr, remote, state, pid))
        return rows

    def net_connections(pid, families, types):
        rows = tcp_rows(families, max(pid, 0)) if socket.SOCK_STREAM in types else []
        if socket.SOCK_DGRAM in types:
            rows += [r for r in original_conns(pid, families, [socket.SOCK_DGRAM])]
        return rows

    cext.proc_exe = proc_exe
    cext.net_connections = net_connections


if os.environ.get("ARIA_TRAY_WINE_SHIMS", "1") != "0" and _under_wine():
    # 3. above
    # None in sys.modules makes "import _wmi" fail (the import system's rule; typeshed says Module)
    sys.modules.setdefault("_wmi", None)  # type: ignore[arg-type]
    sys.meta_path.insert(0, _PatchPsutilOnImport())

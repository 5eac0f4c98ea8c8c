r"""Start Aria Tray at login, per user: the switch Settings will show.

* Linux (and other freedesktop.org desktops): an XDG autostart entry,
  ``$XDG_CONFIG_HOME/autostart/aria-tray.desktop``.
* Windows: the ``AriaTray`` value under
  ``HKCU\Software\Microsoft\Windows\CurrentVersion\Run``.

Both run :func:`desktop.integration.launch_command`, the command that
started this copy, so a moved build needs the switch toggled again.
No Qt is imported, so this also serves the command line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aria2_core import APP_NAME

from . import xdg_files
from .integration import (
    ICON_NAME,
    IntegrationError,
    launch_command,
    with_home_env,
    write_atomic,
    xdg_dir,
)

AUTOSTART_FILE = "aria-tray.desktop"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "AriaTray"


def autostart_file() -> Path:
    return xdg_dir("XDG_CONFIG_HOME", Path.home() / ".config") / "autostart" / AUTOSTART_FILE


def is_enabled() -> bool:
    """True when this user's login starts Aria Tray."""
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, RUN_VALUE)
        except OSError:
            return False
        return True
    try:
        text = autostart_file().read_text(encoding="utf-8")
    except OSError:
        return False
    hidden = (xdg_files.read_desktop_key(text, "Hidden") or "").lower() == "true"
    gnome_off = (
        xdg_files.read_desktop_key(text, "X-GNOME-Autostart-enabled") or ""
    ).lower() == "false"
    return not hidden and not gnome_off


def enable(command: list[str] | None = None) -> None:
    """Start Aria Tray at login from now on (idempotent)."""
    command = command or launch_command()
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_WRITE) as k:
                winreg.SetValueEx(k, RUN_VALUE, 0, winreg.REG_SZ, subprocess.list2cmdline(command))
        except OSError as exc:
            raise IntegrationError(f"cannot write the Run key: {exc}") from exc
        return
    command = with_home_env(command)
    entry = xdg_files.desktop_entry(
        {
            "Type": "Application",
            "Version": "1.5",
            "Name": APP_NAME,
            "Comment": "Start Aria Tray in the system tray at login",
            "Exec": xdg_files.escape_string(xdg_files.exec_line(command)),
            "Icon": ICON_NAME,
            "Terminal": "false",
            "X-GNOME-Autostart-enabled": "true",
        }
    )
    path = autostart_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IntegrationError(f"cannot create {path.parent}: {exc}") from exc
    write_atomic(path, entry.encode("utf-8"))


def disable() -> None:
    """Stop starting at login (idempotent); the autostart folder itself stays."""
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, RUN_VALUE)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise IntegrationError(f"cannot change the Run key: {exc}") from exc
        return
    try:
        autostart_file().unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise IntegrationError(f"cannot remove {autostart_file()}: {exc}") from exc

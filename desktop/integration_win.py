r"""Windows side of ``--register`` / ``--unregister``: per-user associations.

Everything lives below ``HKCU\Software\Classes``, which Windows merges into
``HKEY_CLASSES_ROOT`` for this user only, so no admin rights are needed::

    AriaTray.Download                    (default) "Aria Tray download"
        DefaultIcon                      "<exe>",0
        shell\open\command               "<exe>" "%1"
    magnet                               (default) "URL:Magnet link", URL Protocol ""
        DefaultIcon, shell\open\command  as above
        AriaTray.Command                 the command we wrote (our ownership mark)
    .torrent, .metalink, .meta4
        OpenWithProgids\AriaTray.Download   so "Open with" offers us
        (default) AriaTray.Download         only when the extension had no default

Since Windows 8 a choice the user made (``UserChoice``, hash-protected)
beats these keys; Windows then asks the user, listing Aria Tray. Unregister
deletes the ProgID, the ``magnet`` key only while it still runs the command
we wrote, and our values under the extensions (their keys too, once empty).

Only imported on Windows (``winreg``); the ``classes`` argument lets tests
work below a throwaway key instead of the real one.
"""

from __future__ import annotations

import subprocess
import sys

from aria2_core import APP_NAME

from .integration import MIME_TYPES, IntegrationError, Report

assert sys.platform == "win32", "desktop.integration_win is for Windows"

import winreg  # noqa: E402

CLASSES = r"Software\Classes"
PROGID = "AriaTray.Download"
URL_SCHEME = "magnet"
OWNER_VALUE = "AriaTray.Command"
EXTENSIONS = {
    ".torrent": MIME_TYPES[1],
    ".metalink": MIME_TYPES[3],
    ".meta4": MIME_TYPES[2],
}
SHCNE_ASSOCCHANGED = 0x08000000
SHCNF_IDLIST = 0x0000


def open_command(command: list[str]) -> str:
    """``"<exe>" … "%1"``: quoted the way CreateProcess splits it again."""
    return f'{subprocess.list2cmdline(command)} "%1"'


def default_icon(command: list[str]) -> str:
    """The frozen exe carries the icon; a source launch points at the .ico file."""
    if getattr(sys, "frozen", False):
        return f'"{command[0]}",0'
    from .resources import icon_path

    return f'"{icon_path(suffix=".ico")}",0'


def _set(root: str, path: str, name: str, value: str) -> None:
    with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, rf"{root}\{path}", 0, winreg.KEY_WRITE) as k:
        winreg.SetValueEx(k, name, 0, winreg.REG_SZ, value)


def _get(root: str, path: str, name: str = "") -> str | None:
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, rf"{root}\{path}") as key:
            value, _type = winreg.QueryValueEx(key, name)
    except OSError:
        return None
    return value if isinstance(value, str) else None


def _delete_value(root: str, path: str, name: str) -> bool:
    try:
        with winreg.OpenKey(
            winreg.HKEY_CURRENT_USER, rf"{root}\{path}", 0, winreg.KEY_SET_VALUE
        ) as key:
            winreg.DeleteValue(key, name)
    except OSError:
        return False
    return True


def delete_tree(root: str, path: str) -> bool:
    """Delete a key and everything below it (``DeleteKey`` refuses subkeys)."""
    full = rf"{root}\{path}"
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, full, 0, winreg.KEY_READ) as key:
            children: list[str] = []
            while True:
                try:
                    children.append(winreg.EnumKey(key, len(children)))
                except OSError:
                    break
        for child in children:
            delete_tree(root, rf"{path}\{child}")
        winreg.DeleteKey(winreg.HKEY_CURRENT_USER, full)
    except FileNotFoundError:
        return False
    return True


def _delete_if_empty(root: str, path: str) -> None:
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, rf"{root}\{path}") as key:
            subkeys, values, _ = winreg.QueryInfoKey(key)
        if subkeys == 0 and values == 0:
            winreg.DeleteKey(winreg.HKEY_CURRENT_USER, rf"{root}\{path}")
    except OSError:
        pass


def _notify_shell() -> None:
    """Tell Explorer that associations changed, so icons and menus refresh now."""
    import ctypes

    try:
        ctypes.windll.shell32.SHChangeNotify(SHCNE_ASSOCCHANGED, SHCNF_IDLIST, None, None)
    except OSError:
        pass


def register_windows(command: list[str], classes: str = CLASSES) -> Report:
    report = Report()
    run = open_command(command)
    icon = default_icon(command)
    try:
        _set(classes, PROGID, "", f"{APP_NAME} download")
        _set(classes, rf"{PROGID}\DefaultIcon", "", icon)
        _set(classes, rf"{PROGID}\shell\open\command", "", run)
        report.changed.append(rf"HKCU\{classes}\{PROGID}")

        _set(classes, URL_SCHEME, "", "URL:Magnet link")
        _set(classes, URL_SCHEME, "URL Protocol", "")
        _set(classes, rf"{URL_SCHEME}\DefaultIcon", "", icon)
        _set(classes, rf"{URL_SCHEME}\shell\open\command", "", run)
        _set(classes, URL_SCHEME, OWNER_VALUE, run)
        report.changed.append(rf"HKCU\{classes}\{URL_SCHEME} (magnet: links)")

        for ext in EXTENSIONS:
            _set(classes, rf"{ext}\OpenWithProgids", PROGID, "")
            if not _get(classes, ext):
                _set(classes, ext, "", PROGID)
            report.changed.append(rf"HKCU\{classes}\{ext}")
    except OSError as exc:
        raise IntegrationError(f"cannot write the registry: {exc}") from exc
    report.notes.append(f"command: {run}")
    _notify_shell()
    return report


def unregister_windows(classes: str = CLASSES) -> Report:
    report = Report()
    if delete_tree(classes, PROGID):
        report.changed.append(rf"removed HKCU\{classes}\{PROGID}")
    owner = _get(classes, URL_SCHEME, OWNER_VALUE)
    if owner is not None and owner == _get(classes, rf"{URL_SCHEME}\shell\open\command"):
        delete_tree(classes, URL_SCHEME)
        report.changed.append(rf"removed HKCU\{classes}\{URL_SCHEME}")
    for ext in EXTENSIONS:
        touched = _delete_value(classes, rf"{ext}\OpenWithProgids", PROGID)
        if _get(classes, ext) == PROGID:
            touched = _delete_value(classes, ext, "") or touched
        _delete_if_empty(classes, rf"{ext}\OpenWithProgids")
        _delete_if_empty(classes, ext)
        if touched:
            report.changed.append(rf"removed our entries from HKCU\{classes}\{ext}")
    if report.changed:
        _notify_shell()
    else:
        report.notes.append(f"{APP_NAME} was not registered.")
    return report

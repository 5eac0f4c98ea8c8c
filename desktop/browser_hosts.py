r"""``--register`` for browsers: the native messaging host manifest, per browser found.

A browser finds a native messaging host by name through a small JSON
manifest that names the program to start and the extensions allowed to
start it. Ours allows exactly our extension: the Chromium ID derived from the
public key pinned in ``resources/browser/manifest.json``, and the Firefox
add-on ID from its ``browser_specific_settings``.

The manifest's ``path`` can take no arguments, so registration writes a tiny
launcher next to it that runs this Aria Tray with ``--native-host`` (and the
portable ``ARIA_TRAY_HOME``, if one is in use):

* **Linux**: the launcher ``$XDG_DATA_HOME/aria-tray-browser/aria-tray-native-host``,
  and ``<profile root>/NativeMessagingHosts/org.ariatray.host.json`` for each of
  Chromium, Google Chrome, Brave and Edge whose root exists under
  ``$XDG_CONFIG_HOME``, and ``~/.mozilla/native-messaging-hosts/`` when
  ``~/.mozilla`` exists (Firefox).
* **Windows**: the launcher and both manifests in
  ``%LOCALAPPDATA%\AriaTray\browser-host``, and ``HKCU\Software\{Google\Chrome,
  Microsoft\Edge,Mozilla}\NativeMessagingHosts\org.ariatray.host`` pointing at them.

``--unregister`` removes exactly that: a manifest only while it still names
our launcher, a ``NativeMessagingHosts`` folder only if we created it and it
is empty (``registered.json`` next to the launcher records what we created).
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .integration import HOME_ENV, IntegrationError, Report, _make_dirs, write_atomic, xdg_dir

HOST_NAME = "org.ariatray.host"
CHROMIUM_EXTENSION_ID = "baooipemjphkiohjnedhlllmccnfoban"
FIREFOX_EXTENSION_ID = "aria-tray@ariatray.org"
HOST_DESCRIPTION = "Aria Tray: hands browser downloads to the running Aria Tray"
RECORD_NAME = "registered.json"

# Linux: browser -> its profile root below $XDG_CONFIG_HOME.
CHROMIUM_ROOTS = {
    "Chromium": "chromium",
    "Google Chrome": "google-chrome",
    "Brave": "BraveSoftware/Brave-Browser",
    "Microsoft Edge": "microsoft-edge",
}
# Windows: browser -> its key below HKCU\Software.
WINDOWS_KEYS = {
    "Google Chrome": r"Software\Google\Chrome\NativeMessagingHosts",
    "Microsoft Edge": r"Software\Microsoft\Edge\NativeMessagingHosts",
    "Firefox": r"Software\Mozilla\NativeMessagingHosts",
}


def host_manifest(launcher: Path, firefox: bool) -> dict[str, object]:
    """The manifest one browser family reads; only our extension may start the host."""
    manifest: dict[str, object] = {
        "name": HOST_NAME,
        "description": HOST_DESCRIPTION,
        "path": str(launcher),
        "type": "stdio",
    }
    if firefox:
        manifest["allowed_extensions"] = [FIREFOX_EXTENSION_ID]
    else:
        manifest["allowed_origins"] = [f"chrome-extension://{CHROMIUM_EXTENSION_ID}/"]
    return manifest


def _home_env() -> str:
    home = os.environ.get(HOME_ENV)
    return str(Path(home).expanduser().absolute()) if home else ""


def launcher_script(command: list[str], windows: bool) -> str:
    """The program a manifest names: runs ``command --native-host`` with the browser's args."""
    home = _home_env()
    if windows:
        lines = ["@echo off", "rem Written by aria-tray --register; --unregister removes it."]
        if home:
            lines.append(f'set "{HOME_ENV}={home}"')
        lines.append(f"{subprocess.list2cmdline(command)} --native-host %*")
        return "\r\n".join(lines) + "\r\n"
    prefix = f"{HOME_ENV}={shlex.quote(home)} " if home else ""
    return (
        "#!/bin/sh\n# Written by aria-tray --register; --unregister removes it.\n"
        f'{prefix}exec {shlex.join(command)} --native-host "$@"\n'
    )


@dataclass(frozen=True)
class LinuxHosts:
    """The Linux side; every path comes from XDG_DATA_HOME, XDG_CONFIG_HOME and HOME."""

    data_home: Path
    config_home: Path
    home: Path

    @classmethod
    def from_env(cls) -> LinuxHosts:
        home = Path.home()
        return cls(
            xdg_dir("XDG_DATA_HOME", home / ".local" / "share"),
            xdg_dir("XDG_CONFIG_HOME", home / ".config"),
            home,
        )

    @property
    def folder(self) -> Path:
        return self.data_home / "aria-tray-browser"

    @property
    def launcher(self) -> Path:
        return self.folder / "aria-tray-native-host"

    def manifest_dirs(self) -> dict[str, tuple[Path, Path, bool]]:
        """browser -> (profile root, manifest folder, is Firefox)."""
        found = {
            name: (self.config_home / rel, self.config_home / rel / "NativeMessagingHosts", False)
            for name, rel in CHROMIUM_ROOTS.items()
        }
        mozilla = self.home / ".mozilla"
        found["Firefox"] = (mozilla, mozilla / "native-messaging-hosts", True)
        return found

    def register(self, command: list[str], report: Report) -> None:
        created = _make_dirs(self.folder)
        write_atomic(self.launcher, launcher_script(command, windows=False).encode("utf-8"))
        os.chmod(self.launcher, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH
                 | stat.S_IXOTH)  # fmt: skip
        found = []
        for browser, (root, folder, firefox) in self.manifest_dirs().items():
            if not root.is_dir():
                continue
            created += _make_dirs(folder)
            data = json.dumps(host_manifest(self.launcher, firefox), indent=2) + "\n"
            write_atomic(folder / f"{HOST_NAME}.json", data.encode("utf-8"))
            report.changed.append(f"{browser} native messaging host: {folder / HOST_NAME}.json")
            found.append(browser)
        previous = self._created()
        record = {"created": list(dict.fromkeys(previous + created))}
        write_atomic(self.folder / RECORD_NAME, json.dumps(record).encode("utf-8"))
        if not found:
            report.notes.append(
                "No browser profile found (Chromium, Chrome, Brave, Edge, Firefox); "
                "run --register again after starting your browser once."
            )

    def _created(self) -> list[str]:
        try:
            data = json.loads((self.folder / RECORD_NAME).read_text(encoding="utf-8"))
            return [str(p) for p in data.get("created", [])]
        except (OSError, ValueError, AttributeError, TypeError, RecursionError):
            return []

    def unregister(self, report: Report) -> None:
        created = self._created()
        for browser, (_root, folder, _firefox) in self.manifest_dirs().items():
            manifest = folder / f"{HOST_NAME}.json"
            if _names_launcher(manifest, self.launcher):
                manifest.unlink()
                report.changed.append(f"removed the {browser} native messaging host {manifest}")
        for path in (self.launcher, self.folder / RECORD_NAME):
            if path.exists():
                path.unlink()
                report.changed.append(f"removed {path}")
        for made in sorted(created, key=lambda p: p.count(os.sep), reverse=True):
            try:
                Path(made).rmdir()  # only when empty
            except OSError:
                continue


def _names_launcher(manifest: Path, launcher: Path) -> bool:
    """Is this manifest ours (our host name, our launcher)? Others' files are left alone."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and data.get("name") == HOST_NAME
        and (data.get("path") == str(launcher))
    )


def windows_folder() -> Path:
    base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    return Path(base) / "AriaTray" / "browser-host"


def register_windows_hosts(command: list[str], report: Report, software: str = "") -> None:
    r"""Write the launcher and manifests, then point each browser's HKCU key at them.

    ``software`` replaces the leading ``Software`` of each key (tests use a
    throwaway key).
    """
    if sys.platform != "win32":
        raise IntegrationError("the browsers' registry keys exist only on Windows")
    from . import integration_win as win

    folder = windows_folder()
    folder.mkdir(parents=True, exist_ok=True)
    launcher = folder / "aria-tray-native-host.cmd"
    write_atomic(launcher, launcher_script(command, windows=True).encode("utf-8"))
    for firefox in (False, True):
        data = json.dumps(host_manifest(launcher, firefox), indent=2) + "\n"
        write_atomic(_windows_manifest(folder, firefox), data.encode("utf-8"))
    try:
        for browser, key in WINDOWS_KEYS.items():
            key = _rebase(key, software)
            manifest = _windows_manifest(folder, browser == "Firefox")
            win._set(key, HOST_NAME, "", str(manifest))
            report.changed.append(rf"{browser} native messaging host: HKCU\{key}\{HOST_NAME}")
    except OSError as exc:
        raise IntegrationError(f"cannot write the registry: {exc}") from exc


def unregister_windows_hosts(report: Report, software: str = "") -> None:
    if sys.platform != "win32":
        raise IntegrationError("the browsers' registry keys exist only on Windows")
    from . import integration_win as win

    folder = windows_folder()
    for browser, key in WINDOWS_KEYS.items():
        key = _rebase(key, software)
        ours = str(_windows_manifest(folder, browser == "Firefox"))
        if win._get(key, HOST_NAME) == ours and win.delete_tree(key, HOST_NAME):
            report.changed.append(rf"removed the {browser} native messaging host key")
    for path in (
        _windows_manifest(folder, False),
        _windows_manifest(folder, True),
        folder / "aria-tray-native-host.cmd",
    ):
        if path.exists():
            path.unlink()
            report.changed.append(f"removed {path}")
    try:
        folder.rmdir()
    except OSError:
        pass


def _windows_manifest(folder: Path, firefox: bool) -> Path:
    return folder / (f"{HOST_NAME}.firefox.json" if firefox else f"{HOST_NAME}.json")


def _rebase(key: str, software: str) -> str:
    return software + key[len("Software") :] if software else key


def register_hosts(command: list[str], report: Report) -> None:
    """Install the host for the browsers found (called by ``--register``)."""
    if sys.platform == "win32":
        register_windows_hosts(command, report)
    else:
        LinuxHosts.from_env().register(command, report)


def unregister_hosts(report: Report) -> None:
    if sys.platform == "win32":
        unregister_windows_hosts(report)
    else:
        LinuxHosts.from_env().unregister(report)

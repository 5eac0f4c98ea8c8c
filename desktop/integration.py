"""Desktop integration: ``aria-tray --register`` and ``--unregister``.

Per user, never needing admin rights:

* **Linux** (freedesktop.org): ``$XDG_DATA_HOME/applications/aria-tray.desktop``
  with ``MimeType=`` magnet links, torrents and metalinks; the icon in the
  user's hicolor theme (PNG and SVG); and ours made the default application
  for those types, through ``xdg-mime default`` when it exists, else by
  editing ``$XDG_CONFIG_HOME/mimeapps.list`` ourselves.
* **Windows**: ``HKCU\\Software\\Classes`` (see :mod:`desktop.integration_win`).
* **Browsers**: the native messaging host for the browser extension, for
  each browser found (see :mod:`desktop.browser_hosts`).

The desktop launches ``Exec`` with the link, which is an ordinary command
line launch: it goes straight into the forwarding path of ``desktop.cli``
and hands the link to the running instance.

``--unregister`` removes exactly what ``--register`` created. The desktop
file itself records what registration had to create (``X-AriaTray-Created``:
folders, and ``mimeapps.list`` if it was new) and which defaults it replaced
(``X-AriaTray-Replaced``). So unregistering leaves the user's folders as
they were, ``mimeapps.list`` loses only the entries that name us, and a
default we took over goes back to the application that had it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aria2_core import APP_NAME, atomic_file
from aria2_core.errors import AriaTrayError

from . import xdg_files
from .resources import icon_path

DESKTOP_ID = "aria-tray.desktop"
ICON_NAME = "aria-tray"
MIME_TYPES = (
    "x-scheme-handler/magnet",
    "application/x-bittorrent",
    "application/metalink4+xml",
    "application/metalink+xml",
)
CREATED_KEY = "X-AriaTray-Created"
REPLACED_KEY = "X-AriaTray-Replaced"
HOME_ENV = "ARIA_TRAY_HOME"
XDG_MIME_TIMEOUT_S = 20.0


class IntegrationError(AriaTrayError):
    """Registration could not be done; the message says what to do."""


@dataclass
class Report:
    """What a registration run did, for the command line to print."""

    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [*self.changed, *self.notes]
        return "\n".join(lines) if lines else "Nothing to do."


def _gui_python() -> str:
    """The interpreter for a source launch; ``pythonw.exe`` on Windows (no console)."""
    exe = Path(sys.executable)
    if sys.platform == "win32" and exe.name.lower() == "python.exe":
        windowed = exe.with_name("pythonw.exe")
        if windowed.is_file():
            return str(windowed)
    return str(exe)


def start_detached(environ: Mapping[str, str] | None = None) -> None:
    """Start this Aria Tray (:func:`launch_command`) detached from the caller.

    It outlives the caller: a browser's native host and its job object, or
    the app itself restarting (a new language). It gets our environment (so
    the same app home), or ``environ``. Raises ``IntegrationError`` when the
    command cannot be told, ``OSError`` when it cannot start.
    """
    command = launch_command()
    env = dict(os.environ if environ is None else environ)
    if getattr(sys, "frozen", False):
        env["PYINSTALLER_RESET_ENVIRONMENT"] = "1"  # a fresh bootloader, not our child
    kwargs: dict[str, Any] = {
        "env": env,
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "close_fds": True,
    }
    if sys.platform == "win32":
        flags = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
        breakaway = 0x01000000  # CREATE_BREAKAWAY_FROM_JOB: the browser's job kills its hosts
        try:
            subprocess.Popen(command, creationflags=flags | breakaway, **kwargs)
            return
        except OSError:
            pass  # the job does not allow breakaway; start inside it
        subprocess.Popen(command, creationflags=flags, **kwargs)
    else:
        subprocess.Popen(command, start_new_session=True, **kwargs)


def launch_command() -> list[str]:
    """The command that starts *this* Aria Tray: frozen exe, entry point, or main.py.

    It goes into desktop files and registry keys, so every path is absolute
    and nothing relies on the caller's working folder or ``PATH``.
    """
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).absolute())]
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if argv0:
        path = Path(argv0)
        if path.suffix == ".py" and path.is_file():
            return [_gui_python(), str(path.absolute())]
        if path.stem == "aria-tray":  # the installed entry point (aria-tray, aria-tray.exe)
            found = path if path.is_file() else shutil.which(argv0)
            if found:
                return [str(Path(found).absolute())]
    main_py = Path(__file__).resolve().parent.parent / "main.py"
    if main_py.is_file():
        return [_gui_python(), str(main_py)]
    raise IntegrationError(
        "cannot tell how this Aria Tray was started; run --register from the "
        "aria-tray command or the AriaTray executable."
    )


def register_desktop(command: list[str] | None = None) -> Report:
    """Install the desktop integration for the current user, browsers included."""
    from .browser_hosts import register_hosts

    command = command or launch_command()
    if sys.platform == "win32":
        from .integration_win import register_windows

        report = register_windows(command)
    elif sys.platform == "darwin":
        raise IntegrationError("--register is not supported on macOS yet.")
    else:
        report = XdgIntegration.from_env().register(with_home_env(command))
    register_hosts(command, report)
    return report


def with_home_env(command: list[str]) -> list[str]:
    """Prefix ``env ARIA_TRAY_HOME=…`` when a portable (or test) home is in use.

    The desktop starts the command without our environment; without the
    prefix a link opened from the browser would go to another instance.
    """
    home = os.environ.get(HOME_ENV)
    if not home:
        return command
    return ["env", f"{HOME_ENV}={Path(home).expanduser().absolute()}", *command]


def unregister_desktop() -> Report:
    """Remove what :func:`register_desktop` installed, and nothing else."""
    from .browser_hosts import unregister_hosts

    if sys.platform == "win32":
        from .integration_win import unregister_windows

        report = unregister_windows()
    elif sys.platform == "darwin":
        raise IntegrationError("--unregister is not supported on macOS yet.")
    else:
        report = XdgIntegration.from_env().unregister()
    unregister_hosts(report)
    if report.changed:
        report.notes = [n for n in report.notes if "was not registered" not in n]
    return report


def xdg_dir(name: str, default: Path) -> Path:
    """An XDG base folder; relative values are invalid per the spec and ignored."""
    value = os.environ.get(name, "")
    return Path(value) if value and os.path.isabs(value) else default


@dataclass
class _Record:
    """What a registration changed, kept in the desktop file until unregistering."""

    created: list[str] = field(default_factory=list)
    replaced: dict[str, str] = field(default_factory=dict)  # MIME type -> previous default


@dataclass(frozen=True)
class XdgIntegration:
    """The freedesktop.org side; every path comes from the two XDG base folders."""

    data_home: Path
    config_home: Path

    @classmethod
    def from_env(cls) -> XdgIntegration:
        return cls(
            xdg_dir("XDG_DATA_HOME", Path.home() / ".local" / "share"),
            xdg_dir("XDG_CONFIG_HOME", Path.home() / ".config"),
        )

    @property
    def desktop_file(self) -> Path:
        return self.data_home / "applications" / DESKTOP_ID

    @property
    def icon_files(self) -> dict[Path, Path]:
        """Installed icon -> bundled source."""
        hicolor = self.data_home / "icons" / "hicolor"
        return {
            hicolor / "256x256" / "apps" / f"{ICON_NAME}.png": icon_path(suffix=".png"),
            hicolor / "scalable" / "apps" / f"{ICON_NAME}.svg": icon_path(suffix=".svg"),
        }

    @property
    def mimeapps(self) -> Path:
        return self.config_home / "mimeapps.list"

    def mimeapps_candidates(self) -> list[Path]:
        """Every mimeapps.list a desktop or xdg-mime may have written us into."""
        desktops = [d.lower() for d in os.environ.get("XDG_CURRENT_DESKTOP", "").split(":") if d]
        names = [f"{d}-mimeapps.list" for d in desktops] + ["mimeapps.list"]
        found = [self.config_home / n for n in names]
        found.append(self.data_home / "applications" / "mimeapps.list")  # deprecated place
        return found

    # -- register -----------------------------------------------------------
    def register(self, command: list[str]) -> Report:
        report = Report()
        record = self._previous_record()
        targets = [self.desktop_file.parent, self.config_home]
        targets += [dest.parent for dest in self.icon_files]
        for folder in targets:
            record.created += _make_dirs(folder)
        if not self.mimeapps.exists():
            record.created.append(str(self.mimeapps))
        for mime, app in xdg_files.defaults_of(_read_text(self.mimeapps)).items():
            if mime in MIME_TYPES and app != DESKTOP_ID:
                record.replaced.setdefault(mime, app)

        for dest, source in self.icon_files.items():
            if not source.is_file():
                raise IntegrationError(f"the bundled icon {source} is missing; reinstall Aria Tray")
            write_atomic(dest, source.read_bytes())
            report.changed.append(f"icon: {dest}")

        record.created = list(dict.fromkeys(record.created))
        entry = self._desktop_entry(command, record)
        write_atomic(self.desktop_file, entry.encode("utf-8"))
        report.changed.append(f"desktop file: {self.desktop_file}")
        report.notes.append(f"Exec: {xdg_files.exec_line(command, '%U')}")

        how = self._set_defaults()
        report.changed.append(f"default for {', '.join(MIME_TYPES)} ({how})")
        return report

    def _previous_record(self) -> _Record:
        """The record of an earlier registration, so a re-register keeps it."""
        try:
            text = self.desktop_file.read_text(encoding="utf-8")
        except OSError:
            return _Record()
        created = xdg_files.unescape_list(xdg_files.read_desktop_key(text, CREATED_KEY) or "")
        replaced = {}
        for item in xdg_files.unescape_list(xdg_files.read_desktop_key(text, REPLACED_KEY) or ""):
            mime, sep, app = item.partition("=")
            if sep and mime in MIME_TYPES and app:
                replaced[mime] = app
        return _Record(created, replaced)

    def _desktop_entry(self, command: list[str], record: _Record) -> str:
        program = command[2] if command[0] == "env" and len(command) > 2 else command[0]
        return xdg_files.desktop_entry(
            {
                "Type": "Application",
                "Version": "1.5",
                "Name": APP_NAME,
                "GenericName": "Download Manager",
                "Comment": "Download with aria2 from the system tray",
                "Exec": xdg_files.escape_string(xdg_files.exec_line(command, "%U")),
                "TryExec": xdg_files.escape_string(program),
                "Icon": ICON_NAME,
                "Terminal": "false",
                "Categories": "Network;FileTransfer;",
                "Keywords": "download;torrent;magnet;metalink;aria2;",
                "MimeType": xdg_files.escape_list(MIME_TYPES),
                "StartupNotify": "false",
                "StartupWMClass": "aria-tray",
                CREATED_KEY: xdg_files.escape_list(record.created),
                REPLACED_KEY: xdg_files.escape_list(f"{m}={a}" for m, a in record.replaced.items()),
            }
        )

    def _set_defaults(self) -> str:
        """``xdg-mime default`` when available (checked afterwards), else our own edit."""
        xdg_mime = shutil.which("xdg-mime")
        if xdg_mime:
            try:
                subprocess.run(
                    [xdg_mime, "default", DESKTOP_ID, *MIME_TYPES],
                    check=True,
                    capture_output=True,
                    timeout=XDG_MIME_TIMEOUT_S,
                )
            except (OSError, subprocess.SubprocessError):
                pass
            else:
                if self._defaults_point_at_us():
                    return "xdg-mime"
        text = _read_text(self.mimeapps)
        write_atomic(
            self.mimeapps, xdg_files.set_defaults(text, DESKTOP_ID, MIME_TYPES).encode("utf-8")
        )
        return str(self.mimeapps)

    def _defaults_point_at_us(self) -> bool:
        defaults = xdg_files.defaults_of(_read_text(self.mimeapps))
        return all(defaults.get(mime) == DESKTOP_ID for mime in MIME_TYPES)

    # -- unregister -----------------------------------------------------------
    def unregister(self) -> Report:
        report = Report()
        record = self._previous_record()
        created = set(record.created)
        for path in self.mimeapps_candidates():
            text = _read_text(path)
            if not text:
                continue
            cleaned = xdg_files.remove_app(text, DESKTOP_ID)
            if path == self.mimeapps:
                cleaned = self._restore_replaced(cleaned, record.replaced)
            if str(path) in created and not xdg_files.has_entries(cleaned):
                path.unlink()
                report.changed.append(f"removed {path}")
            elif cleaned != text:
                write_atomic(path, cleaned.encode("utf-8"))
                report.changed.append(f"removed our entries from {path}")
        for path in [self.desktop_file, *self.icon_files]:
            try:
                path.unlink()
                report.changed.append(f"removed {path}")
            except FileNotFoundError:
                continue
        # Deepest first, and only folders we created and that are empty now.
        for folder in sorted(created, key=lambda p: p.count(os.sep), reverse=True):
            try:
                Path(folder).rmdir()
            except OSError:
                continue
        if not report.changed:
            report.notes.append(f"{APP_NAME} was not registered.")
        return report

    @staticmethod
    def _restore_replaced(text: str, replaced: dict[str, str]) -> str:
        """Give back the defaults we took over, unless the user chose anew since."""
        current = xdg_files.defaults_of(text)
        for mime, app in replaced.items():
            if mime not in current:
                text = xdg_files.set_defaults(text, app, [mime])
        return text


def _make_dirs(folder: Path) -> list[str]:
    """``mkdir -p``, returning the folders that did not exist, outermost first."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    return [str(p) for p in reversed(missing)]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise IntegrationError(f"cannot read {path}: {exc}") from exc


def write_atomic(path: Path, data: bytes) -> None:
    """:func:`aria2_core.atomic_file.write_atomic` for the desktop's files.

    An existing file keeps its permissions (mimeapps.list is the user's); a
    failure becomes an :class:`IntegrationError` naming the file.
    """
    try:
        atomic_file.write_atomic(path, data, mode=None)
    except OSError as exc:
        raise IntegrationError(f"cannot write {path}: {exc}") from exc

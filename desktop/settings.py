"""The user's settings: one typed object, stored with ``QSettings`` as INI in the app home.

The file is ``AppPaths.settings_file`` (``<home>/settings.ini``), not the
platform's registry or ``~/.config``, so every app home, and so every test,
has settings of its own, and a portable install carries them along.

:class:`AppSettings` holds everything Settings shows plus a little UI state
(the add dialog's last folder, the drop zone's place). The engine part
becomes an :class:`~aria2_core.config.EngineSettings` through
:func:`engine_settings`, with the environment on top: ``ARIA_TRAY_DOWNLOAD_DIR``,
``ARIA_TRAY_RPC_PORT`` and ``ARIA_TRAY_ARIA2C`` win over the file, for
tests and power users.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from aria2_core.binary import BINARY_ENV
from aria2_core.config import EngineSettings, validate_extra_options
from aria2_core.errors import ConfigError
from aria2_core.option_catalog import check_extra_lines, format_extra_lines
from aria2_core.paths import default_download_dir

log = logging.getLogger("aria_tray.settings")

DOWNLOAD_DIR_ENV = "ARIA_TRAY_DOWNLOAD_DIR"
RPC_PORT_ENV = "ARIA_TRAY_RPC_PORT"

# Language codes Settings offers; "" follows the system.
LANGUAGES = ("", "en", "zh_CN")

# aria2 options that have a field of their own in Settings; extra options
# may not set them too (which of the two would win is not obvious).
TYPED_OPTIONS = frozenset(
    {
        "dir",
        "max-concurrent-downloads",
        "max-connection-per-server",
        "split",
        "max-overall-download-limit",
        "max-overall-upload-limit",
        "seed-ratio",
        "seed-time",
        "user-agent",
        "all-proxy",
    }
)


def platform_download_dir() -> str:
    """The desktop's Downloads folder: XDG ``user-dirs.dirs`` (``~/下载``), the Known Folder.

    ``QStandardPaths`` reads it each time (no QApplication needed); the core's
    ``~/Downloads`` only when Qt has no answer.
    """
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
    return location or str(default_download_dir())


@dataclass
class AppSettings:
    """Everything the user can set, with the defaults a new user gets."""

    download_dir: str = field(default_factory=lambda: platform_download_dir())
    max_concurrent_downloads: int = 5
    max_connection_per_server: int = 8
    split: int = 8
    download_limit: int = 0  # bytes/s, 0 = unlimited
    upload_limit: int = 0
    seed_ratio: float = 1.0
    seed_time: float | None = 60.0  # minutes; None = no time limit
    user_agent: str = ""
    proxy: str = ""
    start_minimized: bool = True
    start_at_login: bool = False  # mirrors desktop.autostart; the OS entry is the truth
    notifications: bool = True
    clipboard_watch: bool = False  # offer copied download links (the tray's toggle)
    language: str = ""
    aria2c_path: str = ""
    extra_options: dict[str, str] = field(default_factory=dict)
    # UI state, remembered between runs
    add_folder: str = ""
    drop_zone_visible: bool = False
    drop_zone_pos: tuple[int, int] | None = None
    first_run_done: bool = False  # the window showed once, at the very first start
    window_geometry: str = ""  # QWidget.saveGeometry(), base64; fitted to the screen when shown


def engine_settings(
    settings: AppSettings, environ: Mapping[str, str] | None = None
) -> EngineSettings:
    """The engine's settings: the user's, then the environment's overrides on top."""
    environ = os.environ if environ is None else environ
    try:
        extra = validate_extra_options(settings.extra_options)
    except ConfigError as exc:  # a hand-edited file: run without the bad ones
        log.warning("ignoring extra aria2c options: %s", exc)
        extra = {}
    engine = EngineSettings(
        download_dir=Path(settings.download_dir).expanduser(),
        max_concurrent_downloads=settings.max_concurrent_downloads,
        max_connection_per_server=settings.max_connection_per_server,
        split=settings.split,
        max_overall_download_limit=settings.download_limit,
        max_overall_upload_limit=settings.upload_limit,
        seed_ratio=settings.seed_ratio,
        seed_time=settings.seed_time,
        user_agent=settings.user_agent,
        all_proxy=settings.proxy,
        extra_options={k: v for k, v in extra.items() if k not in TYPED_OPTIONS},
        binary_override=settings.aria2c_path or None,
    )
    if environ.get(DOWNLOAD_DIR_ENV):
        engine.download_dir = Path(environ[DOWNLOAD_DIR_ENV])
    port = environ.get(RPC_PORT_ENV, "")
    if port.isdigit():
        engine.preferred_port = int(port)
    if environ.get(BINARY_ENV):
        engine.binary_override = environ[BINARY_ENV]
    return engine


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The :class:`AppSettings` fields the environment overrides for this run.

    Field name -> the variable that sets it, so Settings can say which one
    (the value in use is in :func:`engine_settings`' result).
    """
    environ = os.environ if environ is None else environ
    names = {DOWNLOAD_DIR_ENV: "download_dir", BINARY_ENV: "aria2c_path"}
    return {name: env for env, name in names.items() if environ.get(env)}


class SettingsStore:
    """Reads and writes :class:`AppSettings` in one INI file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _qsettings(self) -> QSettings:
        return QSettings(str(self.path), QSettings.Format.IniFormat)

    def load(self) -> AppSettings:
        """The stored settings; a missing or hand-mangled value falls back to its default."""
        q = self._qsettings()
        d = AppSettings()
        read = _Reader(q)
        extra = check_extra_lines("\n".join(_as_list(q.value("engine/extra_options", []))))
        for problem in extra.problems:
            log.warning("settings: ignoring extra option line %r (%s)", problem.text, problem.kind)
        pos = _as_list(q.value("ui/drop_zone_pos", []))
        # Missing: the default; empty (or negative): the user chose no time limit.
        seed_time = d.seed_time
        if q.contains("engine/seed_time"):
            minutes = read.number("engine/seed_time", -1.0)
            seed_time = minutes if minutes >= 0 else None
        return AppSettings(
            download_dir=read.text("engine/download_dir", d.download_dir) or d.download_dir,
            max_concurrent_downloads=read.integer(
                "engine/max_concurrent_downloads", d.max_concurrent_downloads, 1, 1000
            ),
            max_connection_per_server=read.integer(
                "engine/max_connection_per_server", d.max_connection_per_server, 1, 16
            ),
            split=read.integer("engine/split", d.split, 1, 1000),
            download_limit=read.integer("engine/download_limit", 0, 0, 2**40),
            upload_limit=read.integer("engine/upload_limit", 0, 0, 2**40),
            seed_ratio=max(0.0, read.number("engine/seed_ratio", d.seed_ratio)),
            seed_time=seed_time,
            user_agent=read.text("engine/user_agent", ""),
            proxy=read.text("engine/proxy", ""),
            aria2c_path=read.text("engine/aria2c_path", ""),
            extra_options=extra.options,
            start_minimized=read.flag("app/start_minimized", True),
            start_at_login=read.flag("app/start_at_login", False),
            notifications=read.flag("app/notifications", True),
            clipboard_watch=read.flag("app/clipboard_watch", False),
            language=_known_language(read.text("app/language", "")),
            add_folder=read.text("ui/add_folder", ""),
            drop_zone_visible=read.flag("ui/drop_zone_visible", False),
            drop_zone_pos=(int(pos[0]), int(pos[1])) if _is_pos(pos) else None,
            first_run_done=read.flag("ui/first_run_done", False),
            window_geometry=read.text("ui/window_geometry", ""),
        )

    def save(self, s: AppSettings) -> None:
        """Write every field and flush; raises ``OSError`` when the file cannot be written."""
        q = self._qsettings()
        values: dict[str, object] = {
            "engine/download_dir": s.download_dir,
            "engine/max_concurrent_downloads": s.max_concurrent_downloads,
            "engine/max_connection_per_server": s.max_connection_per_server,
            "engine/split": s.split,
            "engine/download_limit": s.download_limit,
            "engine/upload_limit": s.upload_limit,
            "engine/seed_ratio": s.seed_ratio,
            "engine/seed_time": "" if s.seed_time is None else s.seed_time,
            "engine/user_agent": s.user_agent,
            "engine/proxy": s.proxy,
            "engine/aria2c_path": s.aria2c_path,
            "engine/extra_options": format_extra_lines(s.extra_options).splitlines(),
            "app/start_minimized": s.start_minimized,
            "app/start_at_login": s.start_at_login,
            "app/notifications": s.notifications,
            "app/clipboard_watch": s.clipboard_watch,
            "app/language": s.language,
            "ui/add_folder": s.add_folder,
            "ui/drop_zone_visible": s.drop_zone_visible,
            "ui/drop_zone_pos": list(s.drop_zone_pos) if s.drop_zone_pos else [],
            "ui/first_run_done": s.first_run_done,
            "ui/window_geometry": s.window_geometry,
        }
        for key, value in values.items():
            q.setValue(key, value)
        q.sync()
        if q.status() != QSettings.Status.NoError:
            raise OSError(f"cannot write the settings file {self.path} ({q.status().name})")


def _as_list(value: object) -> list[str]:
    """QSettings gives a one-element list back as a plain string, and none as None."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[attr-defined]


class _Reader:
    """Typed reads that never trust the file: a bad value logs and gives the default."""

    def __init__(self, q: QSettings) -> None:
        self._q = q

    def _raw(self, key: str) -> str | None:
        value = self._q.value(key)
        if value is None or isinstance(value, list):
            return None
        return str(value).strip()

    def text(self, key: str, default: str) -> str:
        """A string; one with a comma reads back as a list from INI, so join it again."""
        value = self._q.value(key)
        return default if value is None else ", ".join(_as_list(value))

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        raw = self._raw(key)
        try:
            value = int(raw) if raw else default
        except ValueError:
            log.warning("settings: %s=%r is not a whole number; using %d", key, raw, default)
            value = default
        return min(high, max(low, value))

    def number(self, key: str, default: float) -> float:
        raw = self._raw(key)
        try:
            return float(raw) if raw else default
        except ValueError:
            log.warning("settings: %s=%r is not a number; using %s", key, raw, default)
            return default

    def flag(self, key: str, default: bool) -> bool:
        raw = (self._raw(key) or "").lower()
        if raw in ("true", "1", "yes"):
            return True
        if raw in ("false", "0", "no"):
            return False
        return default


def _is_pos(pos: list[str]) -> bool:
    return len(pos) == 2 and all(p.lstrip("-").isdigit() for p in pos)


def _known_language(code: str) -> str:
    return code if code in LANGUAGES else ""

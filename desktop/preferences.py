"""The settings while the app runs: load once, apply changes, remember UI state.

One object owns the current :class:`AppSettings` and is the only writer of
the settings file. Applying new settings happens in an order that never
leaves a saved setting aria2 refused:

1. the engine part goes to the controller, live or by a restart
   (``Controller.apply_engine_settings``);
2. only when aria2 took the live options are the settings saved, start at
   login switched, and ``changed`` emitted for the tray, the notifications
   and the drop zone.

A refused option is put back and reported; the dialog stays open with the
message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from aria2_core.config import EngineSettings
from aria2_core.errors import AriaTrayError
from aria2_core.live_options import RestartReason

from .settings import AppSettings, SettingsStore, engine_settings, env_overrides

if TYPE_CHECKING:
    from .controller import Controller

log = logging.getLogger("aria_tray.settings")

ProblemsCallback = Callable[[list[str]], None]


def autostart_enabled() -> bool:
    """Whether the OS starts us at login (False when the helpers are unavailable)."""
    try:
        from . import autostart

        return autostart.is_enabled()
    except (ImportError, AriaTrayError, OSError) as exc:
        log.warning("cannot read the start-at-login state: %s", exc)
        return False


def set_autostart(enabled: bool) -> None:
    """Switch start at login; raises ``AriaTrayError``/``OSError`` saying why not."""
    from . import autostart

    if enabled:
        autostart.enable()
    else:
        autostart.disable()


class Preferences(QObject):
    """The current settings, and the one way to change them."""

    changed = Signal(object)  # AppSettings, after an apply or a speed-limit change

    def __init__(
        self, store: SettingsStore, controller: Controller, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self.controller = controller
        self._settings = store.load()
        self._settings.start_at_login = autostart_enabled()  # the OS entry is the truth
        self.env_overrides = env_overrides()

    @property
    def settings(self) -> AppSettings:
        """A copy: change it and hand it to :meth:`apply`."""
        return replace(self._settings, extra_options=dict(self._settings.extra_options))

    def engine_settings(self, settings: AppSettings | None = None) -> EngineSettings:
        """``settings`` (default: the current ones) as the engine runs them, env on top."""
        return engine_settings(settings if settings is not None else self._settings)

    def restart_reasons(self, new: AppSettings) -> list[RestartReason]:
        return self.controller.restart_reasons(self.engine_settings(new))

    # -- changing -------------------------------------------------------------
    def apply(self, new: AppSettings, on_done: ProblemsCallback | None = None) -> None:
        """Apply ``new`` (restarting aria2c if it must); ``on_done(problems)`` at the end.

        The caller asks about a restart first (:meth:`restart_reasons`).
        """

        def engine_done(problems: list[str]) -> None:
            if problems:  # aria2 refused; the controller kept the old settings
                if on_done is not None:
                    on_done(problems)
                return
            problems = self._commit(new)
            if on_done is not None:
                on_done(problems)

        self.controller.apply_engine_settings(self.engine_settings(new), engine_done)

    def _commit(self, new: AppSettings) -> list[str]:
        problems: list[str] = []
        if new.start_at_login != autostart_enabled():
            try:
                set_autostart(new.start_at_login)
            except (AriaTrayError, OSError) as exc:
                problems.append(self.tr("Start at login: {error}").format(error=exc))
                new = replace(new, start_at_login=autostart_enabled())
        if new.download_dir != self._settings.download_dir:
            # A new download folder in Settings is the user's latest word: the
            # add dialog follows it instead of a folder picked there before.
            new = replace(new, add_folder="")
        self._settings = new
        problems += self._save()
        self.changed.emit(self.settings)
        return problems

    def set_download_limit(self, bytes_per_s: int, on_done: ProblemsCallback | None = None) -> None:
        """The tray's speed limit: the same path as Settings, for one option.

        Applied once, live, and saved only after aria2 took it; a refused limit
        leaves the old one in aria2, in the file and (through the controller's
        ``engine_settings_changed``) checked in the tray menu.
        """
        self.apply(replace(self._settings, download_limit=max(0, int(bytes_per_s))), on_done)

    def remember(self, **fields: Any) -> None:
        """Store UI state (the add dialog's folder, the drop zone's place); no apply."""
        self._settings = replace(self._settings, **fields)
        self._save()

    def _save(self) -> list[str]:
        try:
            self._store.save(self._settings)
        except OSError as exc:
            log.error("settings not saved: %s", exc)
            return [self.tr("The settings could not be saved: {error}").format(error=exc)]
        return []

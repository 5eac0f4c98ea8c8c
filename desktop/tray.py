"""The system tray icon and its menu.

It talks only to the controller, and asks the app for windows through
signals (``toggle_window``, ``add_requested``, ``settings_requested``,
``drop_zone_toggled``). The icon (idle, downloading, paused, error) and the
tooltip (``↓ 1.2 MB/s ↑ 0 B/s · 3 active``) follow the controller's
signals, never a timer of their own, so an idle app stays idle.

Messages (notices, finished downloads) all go through :meth:`show_message`,
which remembers what a click on the balloon should do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QInputDialog, QMenu, QSystemTrayIcon

from aria2_core import APP_NAME
from aria2_core.config import EngineSettings
from aria2_core.formatting import format_speed
from aria2_core.models import GlobalStat

from .controller import Controller, EngineState, Notice
from .drop_handling import DropHandler, mime_items
from .i18n import QT_TRANSLATE_NOOP
from .messages import engine_state_text
from .tray_icons import TrayState, state_icon, tray_state

log = logging.getLogger("aria_tray.tray")

# The "Speed limit" presets, bytes/s (decimal units, as formatting.py shows them).
SPEED_PRESETS = (500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000)
MESSAGE_MS = 8000

# The menu, top to bottom: (key, label), None for a separator; "speed" is
# the speed-limit submenu. The labels are marked for lupdate here and
# translated where the menu is built, so tests that drive the real menu
# (tests/e2e/test_tray_xvfb.py) read its entries from here, not from a copy.
MENU: tuple[tuple[str, str] | None, ...] = (
    ("window", QT_TRANSLATE_NOOP("Tray", "Show/Hide")),
    None,
    ("add", QT_TRANSLATE_NOOP("Tray", "Add download…")),
    ("clipboard", QT_TRANSLATE_NOOP("Tray", "Add from clipboard")),
    ("watchclip", QT_TRANSLATE_NOOP("Tray", "Watch clipboard")),
    None,
    ("pause", QT_TRANSLATE_NOOP("Tray", "Pause all")),
    ("resume", QT_TRANSLATE_NOOP("Tray", "Resume all")),
    ("speed", QT_TRANSLATE_NOOP("Tray", "Speed limit")),
    None,
    ("dropzone", QT_TRANSLATE_NOOP("Tray", "Drop zone")),
    ("folder", QT_TRANSLATE_NOOP("Tray", "Open download folder")),
    ("settings", QT_TRANSLATE_NOOP("Tray", "Settings…")),
    None,
    ("quit", QT_TRANSLATE_NOOP("Tray", "Quit")),  # last: keyboard "Up" finds it
)


def menu_labels() -> list[str]:
    """The menu's entries in order, in English (the source texts), separators left out."""
    return [entry[1] for entry in MENU if entry is not None]


class Tray(QObject):
    """Owns the ``QSystemTrayIcon``; emits ``quit_requested`` for the app to handle."""

    quit_requested = Signal()
    toggle_window = Signal()  # left-click and "Show/Hide"; the app connects its window
    add_requested = Signal()  # "Add download…"
    settings_requested = Signal()  # "Settings…"
    download_requested = Signal(str)  # gid to show: a clipboard link already in the list
    drop_zone_toggled = Signal(bool)  # "Drop zone" checked or not
    clipboard_watch_toggled = Signal(bool)  # "Watch clipboard" checked or not
    speed_limit_chosen = Signal(int)  # bytes/s (0 = unlimited), to apply and remember

    def __init__(self, controller: Controller, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._state = TrayState.IDLE
        self._icon = QSystemTrayIcon(state_icon(self._state), self)
        self._menu = QMenu()
        self._actions: dict[str, QAction] = {}
        self._on_message_click: Callable[[], object] | None = None
        self._clipboard = DropHandler(controller, self)
        self._clipboard.show_requested.connect(self.download_requested)
        # Replaceable in tests: ask for a custom limit in kB/s; None = cancelled.
        self.ask_custom_limit: Callable[[int], int | None] = self._ask_custom_limit
        self._build_menu()
        self._icon.setContextMenu(self._menu)
        self._icon.activated.connect(self._activated)
        self._icon.messageClicked.connect(self._message_clicked)
        controller.stats_changed.connect(self._refresh)
        controller.engine_state_changed.connect(self._refresh)
        controller.engine_settings_changed.connect(self._sync_speed_menu)
        controller.notice.connect(self.show_notice)
        self._sync_speed_menu(controller.engine_settings())
        self._refresh()

    def _add(
        self, key: str, text: str, slot: Callable[..., object], menu: QMenu | None = None
    ) -> QAction:
        action = (menu or self._menu).addAction(text)
        action.setObjectName(f"tray-{key}")
        action.triggered.connect(slot)
        self._actions[key] = action
        return action

    def _build_menu(self) -> None:
        slots: dict[str, Callable[..., object]] = {
            "window": self.toggle_window.emit,
            "add": self.add_requested.emit,
            "clipboard": self._add_from_clipboard,
            "pause": self._controller.pause_all,
            "resume": self._controller.resume_all,
            "dropzone": lambda checked: self.drop_zone_toggled.emit(checked),
            "watchclip": lambda checked: self.clipboard_watch_toggled.emit(checked),
            "folder": self._open_folder,
            "settings": self.settings_requested.emit,
            "quit": self.quit_requested.emit,
        }
        for entry in MENU:
            if entry is None:
                self._menu.addSeparator()
            elif entry[0] == "speed":
                self._build_speed_menu(self.tr(entry[1]))
            else:
                self._add(entry[0], self.tr(entry[1]), slots[entry[0]])
        self._actions["dropzone"].setCheckable(True)
        self._actions["watchclip"].setCheckable(True)

    def _build_speed_menu(self, title: str) -> None:
        self._speed_menu = self._menu.addMenu(title)
        self._speed_menu.menuAction().setObjectName("tray-speed")
        self._speed_group = QActionGroup(self)
        self._speed_group.setExclusive(True)
        self._speed_actions: dict[int, QAction] = {}
        for limit in (0, *SPEED_PRESETS):
            text = self.tr("Unlimited") if limit == 0 else format_speed(limit)
            action = self._add(f"speed-{limit}", text, self._limit_slot(limit), self._speed_menu)
            action.setCheckable(True)
            self._speed_group.addAction(action)
            self._speed_actions[limit] = action
            if limit == 0:
                self._speed_menu.addSeparator()
        self._speed_menu.addSeparator()
        custom = self._add("speed-custom", self.tr("Custom…"), self._custom_limit, self._speed_menu)
        custom.setCheckable(True)
        self._speed_group.addAction(custom)

    @property
    def menu(self) -> QMenu:
        return self._menu

    @property
    def icon(self) -> QSystemTrayIcon:
        return self._icon

    @property
    def state(self) -> TrayState:
        return self._state

    def action(self, key: str) -> QAction:
        """A menu action by key (``window``, ``add``, ``speed-1000000``, ``dropzone``, …)."""
        return self._actions[key]

    def show(self) -> bool:
        """Show the icon; False when the desktop has no system tray (yet).

        On X11 the panel may start after us (autostart order, a panel
        restart); Qt embeds an icon that was shown as soon as a tray
        appears, so there we show it anyway.
        """
        available = QSystemTrayIcon.isSystemTrayAvailable()
        waits_for_tray = QGuiApplication.platformName() == "xcb"
        if available or waits_for_tray:
            self._icon.show()
        if not available:
            log.warning(
                "no system tray available; %s",
                "the icon appears when one starts" if waits_for_tray else "running without an icon",
            )
        return available

    def hide(self) -> None:
        self._icon.hide()

    def is_available(self) -> bool:
        """Whether a system tray is there now, so the icon can bring the window back."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    def tooltip(self) -> str:
        return self._icon.toolTip()

    def set_clipboard_watch_checked(self, checked: bool) -> None:
        """Mirror the setting (``setChecked`` emits no ``triggered``: no loop)."""
        self._actions["watchclip"].setChecked(checked)

    def set_drop_zone_checked(self, checked: bool) -> None:
        """Mirror the drop zone's visibility (it can also be closed from itself)."""
        self._actions["dropzone"].setChecked(checked)

    # -- state ------------------------------------------------------------------
    @Slot()
    def _refresh(self, *_: object) -> None:
        engine = self._controller.engine
        stats: GlobalStat = self._controller.stats
        if engine.state == EngineState.READY:
            text = self.tr("↓ {down} ↑ {up} · {active} active").format(
                down=format_speed(stats.download_speed),
                up=format_speed(stats.upload_speed),
                active=stats.num_active,
            )
        elif engine.state == EngineState.FAILED:
            text = self.tr("{app}: the download engine stopped: {error}").format(
                app=APP_NAME, error=engine.error
            )
        else:
            text = self.tr("{app}: {state}").format(
                app=APP_NAME, state=engine_state_text(engine.state)
            )
        if self._icon.toolTip() != text:
            self._icon.setToolTip(text)
        state = tray_state(str(engine.state), stats)
        if state != self._state:
            self._state = state
            self._icon.setIcon(state_icon(state))
        ready = engine.state == EngineState.READY
        for key in ("pause", "resume"):
            self._actions[key].setEnabled(ready)

    @Slot(object)
    def _sync_speed_menu(self, settings: EngineSettings) -> None:
        limit = settings.max_overall_download_limit
        custom = self._actions["speed-custom"]
        if limit in self._speed_actions:
            self._speed_actions[limit].setChecked(True)
            custom.setText(self.tr("Custom…"))
        else:
            custom.setChecked(True)
            custom.setText(self.tr("Custom ({limit})…").format(limit=format_speed(limit)))

    # -- speed limit --------------------------------------------------------------
    def _limit_slot(self, limit: int) -> Callable[[], None]:
        return lambda: self.set_speed_limit(limit)

    def set_speed_limit(self, bytes_per_s: int) -> None:
        """Announce the chosen limit; Preferences applies it once and saves it if aria2 takes it."""
        self.speed_limit_chosen.emit(int(bytes_per_s))

    def _custom_limit(self) -> None:
        current = self._controller.engine_settings().max_overall_download_limit
        kb = self.ask_custom_limit(current // 1000)
        if kb is None:
            self._sync_speed_menu(self._controller.engine_settings())  # undo the check mark
            return
        self.set_speed_limit(kb * 1000)

    def _ask_custom_limit(self, current_kb: int) -> int | None:
        kb, ok = QInputDialog.getInt(
            None,
            self.tr("Speed limit"),
            self.tr("Maximum download speed for all downloads, in kB/s (0 = unlimited):"),
            current_kb,
            0,
            10_000_000,
            100,
        )
        return kb if ok else None

    # -- messages ---------------------------------------------------------------
    def show_message(
        self,
        title: str,
        text: str,
        is_error: bool = False,
        on_click: Callable[[], object] | None = None,
    ) -> None:
        """A balloon from the icon; ``on_click`` runs if the user clicks it."""
        kind = (
            QSystemTrayIcon.MessageIcon.Warning
            if is_error
            else QSystemTrayIcon.MessageIcon.Information
        )
        log.info("message: %s: %s", title, text.replace("\n", " | "))
        self._on_message_click = on_click
        if self._icon.isVisible():
            self._icon.showMessage(title, text, kind, MESSAGE_MS)

    @Slot(QSystemTrayIcon.ActivationReason)
    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window.emit()

    @Slot()
    def _message_clicked(self) -> None:
        action, self._on_message_click = self._on_message_click, None
        if action is not None:
            action()

    @Slot(object)
    def show_notice(self, notice: Notice) -> None:
        self.show_message(notice.title, notice.text, notice.is_error)

    def show_running_hint(self) -> None:
        """A second launch without links: remind the user where we are."""
        self.show_message(APP_NAME, self.tr("Aria Tray is running in the system tray."))

    # -- menu actions -------------------------------------------------------------
    @Slot()
    def _add_from_clipboard(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        items = mime_items(mime) if mime is not None else []
        if not items:
            self.show_message(self.tr("Nothing to add"), self.tr("No links in the clipboard."))
            return
        self._clipboard.submit_items(items, "clipboard")

    @Slot()
    def _open_folder(self) -> None:
        folder = self._controller.download_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.show_message(
                self.tr("Could not open the folder"),
                self.tr("Nothing on this computer could open {path}.").format(path=folder),
                is_error=True,
            )

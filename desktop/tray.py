"""The system tray icon and its menu.

It talks only to the controller. The tooltip shows the engine state and
the current speeds; it is updated from the controller's signals, never by
a timer of its own.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from aria2_core.formatting import format_speed
from aria2_core.links import extract_links
from aria2_core.models import GlobalStat

from .controller import Controller, Notice
from .engine import EngineState
from .resources import icon

log = logging.getLogger("aria_tray.tray")


class Tray(QObject):
    """Owns the ``QSystemTrayIcon``; emits ``quit_requested`` for the app to handle."""

    quit_requested = Signal()
    toggle_window = Signal()  # left-click and "Show/Hide"; the app connects its window

    def __init__(self, controller: Controller, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._icon = QSystemTrayIcon(icon(), self)
        self._menu = QMenu()
        self._actions: dict[str, QAction] = {}
        for key, text, slot in (
            ("window", self.tr("Show/Hide"), self.toggle_window.emit),
            ("clipboard", self.tr("Add from clipboard"), self._add_from_clipboard),
            ("pause", self.tr("Pause all"), controller.pause_all),
            ("resume", self.tr("Resume all"), controller.resume_all),
            ("folder", self.tr("Open download folder"), self._open_folder),
            (None, None, None),
            ("quit", self.tr("Quit"), self.quit_requested.emit),
        ):
            if key is None:
                self._menu.addSeparator()
                continue
            action = self._menu.addAction(text)
            action.setObjectName(f"tray-{key}")
            action.triggered.connect(slot)
            self._actions[key] = action
        self._icon.setContextMenu(self._menu)
        self._icon.activated.connect(
            lambda r: r == QSystemTrayIcon.ActivationReason.Trigger and self.toggle_window.emit()
        )
        controller.stats_changed.connect(self._refresh_tooltip)
        controller.engine_state_changed.connect(self._refresh_tooltip)
        controller.notice.connect(self.show_notice)
        self._refresh_tooltip()

    @property
    def menu(self) -> QMenu:
        return self._menu

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

    def tooltip(self) -> str:
        return self._icon.toolTip()

    @Slot()
    def _refresh_tooltip(self, *_: object) -> None:
        engine = self._controller.engine
        stats: GlobalStat = self._controller.stats
        if engine.state == EngineState.READY:
            text = self.tr("↓ {down} ↑ {up} · {active} active").format(
                down=format_speed(stats.download_speed),
                up=format_speed(stats.upload_speed),
                active=stats.num_active,
            )
        elif engine.state == EngineState.FAILED:
            text = self.tr("Engine stopped: {error}").format(error=engine.error)
        else:
            text = self.tr("Engine {state}…").format(state=str(engine.state))
        self._icon.setToolTip(f"Aria Tray\n{text}")
        enabled = engine.state == EngineState.READY
        for key in ("clipboard", "pause", "resume"):
            self._actions[key].setEnabled(enabled)

    @Slot(object)
    def show_notice(self, notice: Notice) -> None:
        kind = (
            QSystemTrayIcon.MessageIcon.Warning
            if notice.is_error
            else QSystemTrayIcon.MessageIcon.Information
        )
        log.info("notice: %s: %s", notice.title, notice.text)
        if self._icon.isVisible():
            self._icon.showMessage(notice.title, notice.text, kind, 8000)

    def show_running_hint(self) -> None:
        """A second launch without links: remind the user where we are."""
        self.show_notice(Notice("Aria Tray", self.tr("Aria Tray is running in the system tray.")))

    @Slot()
    def _add_from_clipboard(self) -> None:
        text = QGuiApplication.clipboard().text()
        links = extract_links(text)
        if not links:
            self.show_notice(
                Notice(self.tr("Nothing to add"), self.tr("No links in the clipboard."))
            )
            return
        try:
            self._controller.submit(links, source="clipboard")
        except OSError as exc:
            self.show_notice(Notice(self.tr("Links not added"), str(exc), is_error=True))

    @Slot()
    def _open_folder(self) -> None:
        folder = self._controller.download_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

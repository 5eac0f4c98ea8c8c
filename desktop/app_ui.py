"""The UI around the tray and the main window: dialogs, drop zone, notifications.

``PrimaryApp`` builds one :class:`AppUi` and gets on with life and death;
this class wires what the user opens from the tray or the window:

* the add dialog and the settings dialog: non-modal, one of each, raised
  when asked again;
* the drop handler, shared by the window and the floating drop zone;
* the drop zone itself, created on first use, its visibility and place
  remembered in the settings;
* the notifier, switched by the settings;
* the first run: the window shows (with a word on where the app lives), so
  a new user sees something; and with no system tray at all the window
  shows at every start and closing it quits, since no icon could bring it
  back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QPoint, Signal, Slot

from .clipboard_watch import ClipboardWatch
from .controller import Controller
from .drop_handling import DropHandler, DropOutcome
from .notifications import Notifier
from .preferences import Preferences
from .settings import AppSettings
from .tray import Tray

if TYPE_CHECKING:
    # Imported where first opened: a tray-only session never loads them.
    from .add_dialog import AddDialog
    from .drop_zone import DropZone
    from .main_window import MainWindow
    from .settings_dialog import SettingsDialog

log = logging.getLogger("aria_tray.app")


class AppUi(QObject):
    """Opens and remembers the app's secondary windows."""

    quit_requested = Signal()  # the window's Quit, or closing it when there is no tray
    restart_requested = Signal()  # Settings: a new language, shown after a restart

    def __init__(
        self,
        controller: Controller,
        preferences: Preferences,
        tray: Tray,
        make_window: Callable[[], MainWindow],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._preferences = preferences
        self._tray = tray
        self._make_window = make_window
        self._window: MainWindow | None = None
        self._add_dialog: AddDialog | None = None
        self._settings_dialog: SettingsDialog | None = None
        self._drop_zone: DropZone | None = None
        self.drops = DropHandler(controller, self)
        self.drops.show_requested.connect(self.show_download)
        tray.toggle_window.connect(self.toggle_window)
        tray.add_requested.connect(self.show_add_dialog)
        tray.settings_requested.connect(self.show_settings)
        tray.download_requested.connect(self.show_download)
        tray.drop_zone_toggled.connect(self.set_drop_zone_visible)
        tray.speed_limit_chosen.connect(self._set_speed_limit)
        tray.clipboard_watch_toggled.connect(self.set_clipboard_watch)
        self.clipboard_watch = ClipboardWatch(parent=self)
        self.clipboard_watch.links_copied.connect(self._offer_copied_links)
        settings = preferences.settings
        self.notifier = Notifier(controller, tray, settings.notifications, self)
        preferences.changed.connect(self._settings_changed)

    # -- main window ------------------------------------------------------------
    @property
    def window(self) -> MainWindow:
        """The main window, built on first use.

        Most sessions live in the tray and never open it, and building it
        (with its imports) costs about 9 MB and 60 ms of start-up.
        """
        if self._window is None:
            window = self._make_window()
            window.drop_handler = self.drops
            window.hide_to_tray = self._tray.is_available
            window.add_requested.connect(self.show_add_dialog)
            window.settings_requested.connect(self.show_settings)
            window.quit_requested.connect(self.quit_requested)
            saved = self._preferences.settings.window_geometry
            if saved:  # where the user left it; show_window fits it to today's screen
                window.restoreGeometry(QByteArray.fromBase64(saved.encode("ascii")))
            window.hidden.connect(self._window_hidden)
            self._window = window
        return self._window

    @Slot()
    def toggle_window(self) -> None:
        self.window.toggle_window()

    @Slot()
    def show_window(self) -> None:
        self.window.show_window()

    @Slot()
    def _window_hidden(self) -> None:
        if self._window is None:
            return
        geometry = bytes(self._window.saveGeometry().toBase64().data()).decode("ascii")
        if geometry != self._preferences.settings.window_geometry:
            self._preferences.remember(window_geometry=geometry)

    @Slot(str)
    def show_download(self, gid: str) -> None:
        """Bring one download into view (a link that was already in the list)."""
        self.window.show_window()
        self.window.select_download(gid)

    def start(self, tray_available: bool = True) -> None:
        """What to show at start: the window, the drop zone.

        The window shows when the settings say so, on the very first run,
        and whenever there is no system tray (then nothing else could open it).
        """
        settings = self._preferences.settings
        first_run = not settings.first_run_done
        if first_run:
            self._preferences.remember(first_run_done=True)
        if first_run or not tray_available or not settings.start_minimized:
            self.show_window()
            if not tray_available:  # stays: it is true for as long as the app runs
                self.window.show_hint(
                    self.tr("No system tray was found: closing this window quits Aria Tray.")
                )
            elif first_run:
                self.window.show_hint(
                    self.tr(
                        "Aria Tray keeps running in the system tray when you close this window."
                    ),
                    while_empty=True,
                )
            log.info("window shown at start (first run %s, tray %s)", first_run, tray_available)
        if settings.drop_zone_visible:
            self.set_drop_zone_visible(True)
        if settings.clipboard_watch:
            self.set_clipboard_watch(True)

    # -- dialogs ------------------------------------------------------------------
    @Slot()
    def show_add_dialog(self, text: str = "") -> AddDialog:
        if self._add_dialog is None:
            from .add_dialog import AddDialog

            self._add_dialog = AddDialog(self._controller, self._preferences)
            self._add_dialog.show_requested.connect(self.show_download)
        dialog = self._add_dialog
        if not dialog.isVisible():
            dialog.reset(text)
        _raise(dialog)
        return dialog

    @Slot()
    def show_settings(self) -> SettingsDialog:
        dialog = self._settings_dialog
        if dialog is None or not dialog.isVisible():
            # Fresh each time: it shows the settings as they are now.
            if dialog is not None:
                dialog.deleteLater()
            from .settings_dialog import SettingsDialog

            dialog = self._settings_dialog = SettingsDialog(self._preferences)
            dialog.app_restart_requested.connect(self.restart_requested)
        _raise(dialog)
        return dialog

    # -- drop zone ----------------------------------------------------------------
    @property
    def drop_zone(self) -> DropZone | None:
        return self._drop_zone

    @Slot(bool)
    def set_drop_zone_visible(self, visible: bool) -> None:
        zone = self._drop_zone
        if visible and zone is None:
            from .drop_zone import DropZone

            zone = self._drop_zone = DropZone(self.drops)
            zone.place(self._preferences.settings.drop_zone_pos)
            zone.moved.connect(self._drop_zone_moved)
            zone.hide_requested.connect(lambda: self.set_drop_zone_visible(False))
            zone.add_requested.connect(self.show_add_dialog)
            zone.window_requested.connect(self.toggle_window)
            zone.dropped.connect(self._zone_dropped)
        if zone is not None:
            zone.setVisible(visible)
        self._tray.set_drop_zone_checked(visible)
        if visible != self._preferences.settings.drop_zone_visible:
            self._preferences.remember(drop_zone_visible=visible)

    @Slot(object)
    def _zone_dropped(self, outcome: DropOutcome) -> None:
        """Confirm a drop on the zone when the window, and so the new rows, are not in view."""
        if self._window is not None and self._window.isVisible():
            return
        self._tray.show_message(
            self.tr("Links added"),
            self.tr("Links added to Aria Tray: {count}").format(count=outcome.added),
        )

    @Slot(QPoint)
    def _drop_zone_moved(self, pos: QPoint) -> None:
        self._preferences.remember(drop_zone_pos=(pos.x(), pos.y()))

    # -- clipboard watch ----------------------------------------------------------
    @Slot(bool)
    def set_clipboard_watch(self, enabled: bool) -> None:
        self.clipboard_watch.set_enabled(enabled)
        self._tray.set_clipboard_watch_checked(enabled)
        if enabled != self._preferences.settings.clipboard_watch:
            self._preferences.remember(clipboard_watch=enabled)

    @Slot(list)
    def _offer_copied_links(self, links: list[str]) -> None:
        """A tray notice; clicking it opens the add dialog with the links in it."""
        shown = links[:3] + ([self.tr("… and {count} more").format(count=len(links) - 3)]
                             if len(links) > 3 else [])  # fmt: skip
        title = (
            self.tr("Download link copied")
            if len(links) == 1
            else self.tr("{count} download links copied").format(count=len(links))
        )
        text = "\n".join([*shown, self.tr("Click to add.")])
        self._tray.show_message(
            title, text, on_click=lambda: self.show_add_dialog("\n".join(links))
        )

    # -- settings -----------------------------------------------------------------
    @Slot(int)
    def _set_speed_limit(self, bytes_per_s: int) -> None:
        def done(problems: list[str]) -> None:
            if problems:
                self._tray.show_message(
                    self.tr("Speed limit not changed"), "\n".join(problems), is_error=True
                )

        self._preferences.set_download_limit(bytes_per_s, done)

    @Slot(object)
    def _settings_changed(self, settings: AppSettings) -> None:
        self.notifier.enabled = settings.notifications

    def close(self) -> None:
        """At quit: close what is open (nothing is saved here; it already was)."""
        for widget in (self._add_dialog, self._settings_dialog, self._drop_zone, self._window):
            if widget is not None:
                widget.hide()


def _raise(widget: AddDialog | SettingsDialog) -> None:
    widget.show()
    widget.raise_()
    widget.activateWindow()

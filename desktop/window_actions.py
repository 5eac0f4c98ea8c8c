"""The main window's actions: what the toolbar and the context menu do.

Each action works on the selected rows and calls one controller method; the
small dialogs some of them need (confirm removal, a speed limit) live here
too. Enabling follows the selection's statuses, so a button is only active
when it would do something.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import QCheckBox, QInputDialog, QMenu, QMenuBar, QMessageBox, QStyle

from aria2_core.models import DownloadInfo

from .i18n import QT_TRANSLATE_NOOP

if TYPE_CHECKING:
    from .controller import Controller
    from .main_window import MainWindow

QUEUED = ("waiting", "paused")
MAX_NAMED = 10  # the remove question lists this many names, then "… and N more"

# In toolbar order; None is a separator.
TOOLBAR = ("add", None, "resume", "pause", "remove", "retry", None, "open_file", "open_folder",
           "copy_link", None, "move_up", "move_down", "speed_limit")  # fmt: skip
CONTEXT_MENU = ("resume", "pause", "remove", "retry", None, "open_file", "open_folder",
                "copy_link", None, "move_up", "move_down", "speed_limit", None,
                "clear_history")  # fmt: skip
ICON_ONLY = ("open_file", "open_folder", "copy_link", "move_up", "move_down")
# The menu bar: (title, entries); everything the tray offers is reachable here too.
MENU_BAR = (
    (QT_TRANSLATE_NOOP("WindowActions", "&File"),
     ("add", "paste", None, "settings", None, "hide", "quit")),
    (QT_TRANSLATE_NOOP("WindowActions", "&Downloads"),
     ("resume", "pause", "remove", "retry", None, "open_file", "open_folder", "copy_link",
      None, "move_up", "move_down", "speed_limit", None, "find", "clear_history")),
)  # fmt: skip
# Keyboard shortcuts (standard keys where the platform has one).
SHORTCUTS: dict[str, QKeySequence.StandardKey | str] = {
    "add": QKeySequence.StandardKey.New,  # Ctrl+N
    "paste": QKeySequence.StandardKey.Paste,  # Ctrl+V; a focused search box keeps its own
    "find": QKeySequence.StandardKey.Find,  # Ctrl+F
    "quit": "Ctrl+Q",  # StandardKey.Quit is empty on Windows
    "hide": "Ctrl+W",
}


class WindowActions(QObject):
    """Owns the window's ``QAction``s (``self.actions[name]``) and their handlers."""

    def __init__(self, window: MainWindow, controller: Controller) -> None:
        super().__init__(window)
        self._window = window
        self._controller = controller
        self._context_menu: QMenu | None = None
        sp = QStyle.StandardPixmap
        specs: list[tuple[str, str, str, QStyle.StandardPixmap | None, Callable[[], object]]] = [
            ("add", self.tr("Add download…"), "list-add", sp.SP_FileDialogNewFolder,
             window.add_requested.emit),
            ("resume", self.tr("Resume"), "media-playback-start", sp.SP_MediaPlay, self.resume),
            ("pause", self.tr("Pause"), "media-playback-pause", sp.SP_MediaPause, self.pause),
            ("remove", self.tr("Remove…"), "edit-delete", sp.SP_TrashIcon, self.remove),
            ("retry", self.tr("Retry"), "view-refresh", sp.SP_BrowserReload, self.retry),
            ("open_file", self.tr("Open file"), "document-open", sp.SP_FileIcon, self.open_file),
            ("open_folder", self.tr("Open folder"), "folder-open", sp.SP_DirOpenIcon,
             self.open_folder),
            ("copy_link", self.tr("Copy link"), "edit-copy", sp.SP_FileLinkIcon, self.copy_link),
            ("move_up", self.tr("Move up"), "go-up", sp.SP_ArrowUp, self.move_up),
            ("move_down", self.tr("Move down"), "go-down", sp.SP_ArrowDown, self.move_down),
            ("speed_limit", self.tr("Speed limit…"), "", None, self.speed_limit),
            ("clear_history", self.tr("Clear history"), "edit-clear", sp.SP_DialogResetButton,
             self.clear_history),
            ("paste", self.tr("Paste links"), "edit-paste", None, window.paste_links),
            ("find", self.tr("Search"), "edit-find", None, window.focus_search),
            ("settings", self.tr("Settings…"), "preferences-system", None,
             window.settings_requested.emit),
            ("hide", self.tr("Close window"), "window-close", None, window.close),
            ("quit", self.tr("Quit Aria Tray"), "application-exit", None,
             window.quit_requested.emit),
        ]  # fmt: skip
        style = window.style()
        self.actions: dict[str, QAction] = {}
        for name, text, theme, fallback, slot in specs:
            fallback_icon = style.standardIcon(fallback) if fallback is not None else QIcon()
            action = QAction(QIcon.fromTheme(theme, fallback_icon), text, window)
            action.setObjectName(f"action-{name}")
            action.setToolTip(text)
            action.triggered.connect(slot)
            self.actions[name] = action
        for name, keys in SHORTCUTS.items():
            self.actions[name].setShortcut(QKeySequence(keys))
        remove = self.actions["remove"]
        remove.setShortcut(Qt.Key.Key_Delete)
        # Only while the list has focus: Delete in the search box edits text.
        remove.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.update_enabled([])  # nothing is selected yet

    def update_enabled(self, records: list[DownloadInfo]) -> None:
        statuses = {r.status for r in records}
        single = len(records) == 1
        enabled = {
            "resume": "paused" in statuses,
            "pause": bool(statuses & {"active", "waiting"}),
            "remove": bool(records),
            "retry": bool(statuses & {"error", "removed"}),
            "open_file": single and records[0].status == "complete",
            "open_folder": single and bool(records[0].dir),
            "copy_link": bool(records),
            "move_up": bool(statuses & set(QUEUED)),
            "move_down": bool(statuses & set(QUEUED)),
            "speed_limit": single and records[0].status in ("active", *QUEUED),
        }
        for name, on in enabled.items():
            self.actions[name].setEnabled(on)

    def fill_menu_bar(self, bar: QMenuBar) -> None:
        """The window's menus (:data:`MENU_BAR`): the actions with their shortcuts."""
        for title, names in MENU_BAR:
            menu = bar.addMenu(self.tr(title))
            for name in names:
                if name is None:
                    menu.addSeparator()
                else:
                    menu.addAction(self.actions[name])

    def context_menu(self) -> QMenu:
        """The rows' context menu: built once, shown again at every right-click.

        A new QMenu per click, parented to the window, was never freed.
        """
        if self._context_menu is None:
            menu = QMenu(self._window)
            for name in CONTEXT_MENU:
                if name is None:
                    menu.addSeparator()
                else:
                    menu.addAction(self.actions[name])
            self._context_menu = menu
        return self._context_menu

    # -- handlers ------------------------------------------------------------
    def _gids(self) -> list[str]:
        return self._window.selected_gids()

    def resume(self) -> None:
        self._controller.resume(self._gids())

    def pause(self) -> None:
        self._controller.pause(self._gids())

    def retry(self) -> None:
        self._controller.retry(self._gids())

    def move_up(self) -> None:
        self._controller.move_up(self._gids())

    def move_down(self) -> None:
        self._controller.move_down(self._gids())

    def remove_box(self, records: list[DownloadInfo]) -> tuple[QMessageBox, QCheckBox]:
        """The question before removing, naming what goes (the first few by name)."""
        box = QMessageBox(self._window)
        box.setObjectName("remove-dialog")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Remove download(s)", "", len(records)))
        names = [r.name or r.gid for r in records]
        if len(names) == 1:
            box.setText(self.tr("Remove “{name}” from the list?").format(name=names[0]))
        else:
            box.setText(self.tr("Remove these %n downloads from the list?", "", len(names)))
            listed = [f"• {name}" for name in names[:MAX_NAMED]]
            if len(names) > MAX_NAMED:
                listed.append(self.tr("… and %n more", "", len(names) - MAX_NAMED))
            box.setInformativeText("\n".join(listed))
        check = QCheckBox(self.tr("Also delete the downloaded files"))
        box.setCheckBox(check)
        box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Ok).setText(self.tr("Remove"))
        return box, check

    def ask_remove(self, records: list[DownloadInfo]) -> tuple[bool, bool]:
        """Ask before removing; returns (confirmed, also delete the files)."""
        box, check = self.remove_box(records)
        confirmed = box.exec() == QMessageBox.StandardButton.Ok
        return confirmed, check.isChecked()

    def remove(self) -> None:
        records = self._window.selected_records()
        gids = [r.gid for r in records]
        if not gids:
            return
        confirmed, delete_files = self.ask_remove(records)
        if confirmed:
            self._controller.remove(gids, delete_files=delete_files)

    def open_file(self) -> None:
        records = self._window.selected_records()
        if len(records) == 1 and records[0].status == "complete":
            self.open_path(self._controller.file_path(records[0].gid))

    def open_folder(self) -> None:
        gids = self._gids()
        if len(gids) == 1:
            self.open_path(self._controller.folder_path(gids[0]))

    def open_path(self, path: Path | None) -> None:
        if path is None or not path.exists():
            self._window.statusBar().showMessage(self.tr("The file is not there any more."), 5000)
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            # No default application, no xdg-open: say so instead of nothing.
            self._window.statusBar().showMessage(
                self.tr("Nothing on this computer could open {path}.").format(path=path), 10_000
            )

    def copy_link(self) -> None:
        links = self._controller.links(self._gids())
        if links:
            QGuiApplication.clipboard().setText("\n".join(links))
            message = self.tr("Copied %n link(s).", "", len(links))
            self._window.statusBar().showMessage(message, 3000)

    def speed_limit(self) -> None:
        gids = self._gids()
        if len(gids) != 1:
            return
        # kB/s (1,000 bytes), the unit the list and the tray show (aria2_core/formatting.py).
        kb, ok = QInputDialog.getInt(
            self._window,
            self.tr("Speed limit"),
            self.tr("Maximum download speed in kB/s (0 = unlimited):"),
            0,
            0,
            10_000_000,
        )
        if ok:
            self._controller.set_task_speed_limit(gids[0], kb * 1000)

    def clear_history(self) -> None:
        answer = QMessageBox.question(
            self._window,
            self.tr("Clear history"),
            self.tr("Forget all completed and failed downloads? Their files stay on disk."),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._controller.clear_history()

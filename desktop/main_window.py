"""The main window: the download list, its filters, actions and details.

It talks only to the controller. Closing it hides it (the app lives in the
tray), and it tells the controller whenever it is shown or hidden, because
that decides how often the list is refreshed: every second while someone
looks at it, rarely or never while nobody does.

Hooks belong to other parts of the app: ``drop_handler`` (the app's
:class:`~desktop.drop_handling.DropHandler`, which also takes pasted links),
the ``add_requested``, ``settings_requested`` and ``quit_requested`` signals
behind the menu's actions, and ``hide_to_tray``: whether closing the window
only hides it (a tray icon is there to bring it back) or quits the app.

The list's default order is the order downloads were added (the model's
own row order): rows never jump when a download starts, pauses or ends.
Clicking a column header sorts by it; a third click goes back to that order.
"""

from __future__ import annotations

import collections
import itertools
import operator
from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QHideEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QSplitter,
    QTabBar,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken

from aria2_core.formatting import format_speed
from aria2_core.models import DownloadInfo, GlobalStat, TaskDetails

from .controller import Controller, EngineState
from .details_pane import DetailsPane
from .download_model import FILTERS, INSERT_CHUNK, DownloadFilterProxy, DownloadTableModel, Role
from .download_rows import queue_reason
from .download_table import DownloadTable
from .drop_handling import DropHandler, accept_as_copy, mime_items
from .engine_banner import EngineBanner
from .list_overlays import DropHighlight, EmptyHint
from .resources import icon
from .screen_fit import fit_to_screen
from .window_actions import ICON_ONLY, TOOLBAR, WindowActions

_STATUS = operator.attrgetter("status")
_ACTION_SAMPLE = 1000


class MainWindow(QMainWindow):
    """The download manager window over one :class:`Controller`."""

    add_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()
    hidden = Signal()  # the app remembers the window's place then

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("main-window")
        self.setWindowTitle(self.tr("Aria Tray"))
        self.setWindowIcon(icon())
        self.resize(980, 600)
        self.setAcceptDrops(True)
        self.drop_handler: DropHandler | None = None
        # Set by the app: True while a tray icon can bring the window back.
        self.hide_to_tray: Callable[[], bool] = lambda: True
        self._hint_while_empty = ""  # a first-run hint, cleared when downloads appear
        self._controller = controller
        self._details_for: DownloadInfo | None = None  # the row the details were read for

        self.model = DownloadTableModel(self, insert_chunk=INSERT_CHUNK)
        self.proxy = DownloadFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = self._make_table()
        self.details = DetailsPane()
        self.details.files_selected.connect(controller.select_files)
        self.tabs = QTabBar()
        self.tabs.setObjectName("filter-tabs")
        self.tabs.setExpanding(False)
        self.tabs.setDrawBase(False)
        for _ in FILTERS:
            self.tabs.addTab("")
        self.tabs.currentChanged.connect(lambda i: self.proxy.set_status_filter(FILTERS[i]))
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(self.tr("Search names and links…"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(220)
        self.search.setMaximumWidth(320)
        self.search.textChanged.connect(self.proxy.set_search_text)

        self.engine_banner = EngineBanner()
        self.engine_banner_text = self.engine_banner.text
        self.engine_banner_settings = self.engine_banner.settings_button
        self.engine_banner_retry = self.engine_banner.retry_button
        self.engine_banner.settings_requested.connect(self.settings_requested)
        self.engine_banner.retry_requested.connect(controller.restart_engine)

        self.window_actions = WindowActions(self, controller)
        self.table.addAction(self.window_actions.actions["remove"])
        self.window_actions.fill_menu_bar(self.menuBar())
        self.addToolBar(self._make_toolbar())
        self._center = self._make_center()
        self.setCentralWidget(self._center)
        self.empty_hint = EmptyHint(self.table, self.tr("Drop links here or press Ctrl+V"))
        self.drop_highlight = DropHighlight(self._center, self.tr("Drop to add"))
        self.queue_label = QLabel()
        self.queue_label.setObjectName("queue-reason")
        self.statusBar().addPermanentWidget(self.queue_label)
        self.speed_label = QLabel()
        self.statusBar().addPermanentWidget(self.speed_label)
        self.list_problem_label = QLabel()
        self.list_problem_label.setStyleSheet("color: #b00020;")
        self.list_problem_label.hide()
        self.statusBar().addWidget(self.list_problem_label, 1)

        controller.downloads_refreshed.connect(self._on_refreshed)
        controller.stats_changed.connect(self._on_stats)
        controller.list_problem.connect(self._on_list_problem)
        controller.engine_state_changed.connect(self._on_engine_state)
        self._on_refreshed(controller.downloads())
        self._on_stats(controller.stats)
        self._on_engine_state(str(controller.engine.state))

    # -- construction -------------------------------------------------------
    def _make_table(self) -> QTableView:
        table = DownloadTable(self.proxy)
        table.customContextMenuRequested.connect(self._context_menu)
        table.doubleClicked.connect(self._double_clicked)
        table.selectionModel().selectionChanged.connect(self._selection_changed)
        return table

    def _make_center(self) -> QWidget:
        filters = QHBoxLayout()
        filters.setContentsMargins(6, 4, 6, 0)
        filters.addWidget(self.tabs)
        filters.addStretch(1)
        filters.addWidget(self.search)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 160])
        center = QWidget()
        layout = QVBoxLayout(center)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        banner = QHBoxLayout()
        banner.setContentsMargins(6, 4, 6, 0)
        banner.addWidget(self.engine_banner)
        layout.addLayout(banner)
        layout.addLayout(filters)
        layout.addWidget(splitter)
        return center

    def _make_toolbar(self) -> QToolBar:
        bar = QToolBar(self.tr("Actions"))
        bar.setObjectName("toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in TOOLBAR:
            if name is None:
                bar.addSeparator()
            else:
                bar.addAction(self.window_actions.actions[name])
        for name in ICON_ONLY:
            button = bar.widgetForAction(self.window_actions.actions[name])
            if isinstance(button, QToolButton):
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        return bar

    # -- window life -------------------------------------------------------
    def show_window(self) -> None:
        """Show, un-minimise and raise (IPC ``show``, a second launch, the tray)."""
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        if not self.isVisible():
            fit_to_screen(self)
        self.show()
        self.raise_()
        self.activateWindow()

    def toggle_window(self) -> None:
        if self.isVisible() and not self.isMinimized():
            self.hide()
        else:
            self.show_window()

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        if self.hide_to_tray():
            self.hide()  # the app lives on in the tray
        else:
            self.quit_requested.emit()  # no tray: nothing could bring the window back

    def select_download(self, gid: str) -> bool:
        """Select and scroll to ``gid``'s row, clearing a filter that hides it."""
        source = self.model.row_of(gid)
        if source < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(source, 0))
        if not index.isValid():
            self.search.clear()
            self.tabs.setCurrentIndex(0)  # All
            index = self.proxy.mapFromSource(self.model.index(source, 0))
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    def show_hint(self, text: str, while_empty: bool = False) -> None:
        """A line in the status bar; ``while_empty``: only until the first download shows."""
        self.statusBar().showMessage(text)
        self._hint_while_empty = text if while_empty and self.model.rowCount() == 0 else ""

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def paste_links(self) -> None:
        """Ctrl+V: add the links in the clipboard, as if they were dropped."""
        mime = QGuiApplication.clipboard().mimeData()
        if self.drop_handler is None or mime is None:
            return
        items = mime_items(mime)
        if not items:
            self.statusBar().showMessage(self.tr("No links in the clipboard."), 5000)
            return
        self.drop_handler.submit_items(items, "paste")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._controller.set_window_visible(not self.isMinimized())

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._controller.set_window_visible(False)
        self.hidden.emit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange:
            self._controller.set_window_visible(self.isVisible() and not self.isMinimized())

    # -- drops (the hook) ----------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.drop_handler is not None and accept_as_copy(event):
            self.drop_highlight.setGeometry(self._center.rect())
            self.drop_highlight.show()
            self.drop_highlight.raise_()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self.drop_handler is None or not accept_as_copy(event):
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.drop_highlight.hide()

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_highlight.hide()
        handler = self.drop_handler
        if handler is None or not accept_as_copy(event) or not handler(event.mimeData()):
            event.ignore()

    # -- updates -------------------------------------------------------------
    @Slot(object)
    def _on_refreshed(self, rows: list[DownloadInfo]) -> None:
        counts = collections.Counter(map(_STATUS, rows))
        # Live rows come first, active ones at their head (aria2's order).
        active = itertools.islice(rows, counts["active"])
        limit = self._controller.engine_settings().max_concurrent_downloads
        # A failed or restarting engine has its own words (the banner, the tray).
        ready = self._controller.engine.state == EngineState.READY
        reason = queue_reason(active, counts["waiting"], limit) if ready else ""
        self.model.queue_reason = reason
        if self.queue_label.text() != reason:
            self.queue_label.setText(reason)
        self.model.update(rows)
        if rows and self._hint_while_empty:
            if self.statusBar().currentMessage() == self._hint_while_empty:
                self.statusBar().clearMessage()  # the user found the way: downloads are in
            self._hint_while_empty = ""
        labels = [
            self.tr("All ({count})").format(count=len(rows)),
            self.tr("Active ({count})").format(count=counts["active"]),
            self.tr("Waiting ({count})").format(count=counts["waiting"]),
            self.tr("Paused ({count})").format(count=counts["paused"]),
            self.tr("Completed ({count})").format(count=counts["complete"]),
            self.tr("Failed ({count})").format(count=counts["error"] + counts["removed"]),
        ]
        for index, label in enumerate(labels):
            if self.tabs.tabText(index) != label:
                self.tabs.setTabText(index, label)
        if self.table.selectionModel().hasSelection():
            self._update_actions()  # the selected rows' statuses may have changed
        gid = self.details.gid
        if gid:
            info = self._controller.download(gid)
            if info is None:
                self.details.clear()
            elif info.status == "active" or info is not self._details_for:
                # Running, or changed since the details were read (it just
                # completed, failed, was paused): read them again.
                self._fetch_details(gid)

    @Slot(object)
    def _on_list_problem(self, problem: str) -> None:
        """Say why the list may be out of date; hidden again once a refresh works."""
        if problem:
            self.list_problem_label.setText(
                self.tr("The download list can't be updated: {problem}. Retrying…").format(
                    problem=problem
                )
            )
        self.list_problem_label.setVisible(bool(problem))

    def _on_stats(self, stats: GlobalStat) -> None:
        self.speed_label.setText(
            self.tr("↓ {down}  ↑ {up}").format(
                down=format_speed(stats.download_speed), up=format_speed(stats.upload_speed)
            )
        )

    @Slot(str)
    def _on_engine_state(self, state: str) -> None:
        self.engine_banner.show_state(state, self._controller.engine.error)

    def selected_records(self) -> list[DownloadInfo]:
        rows = self.table.selectionModel().selectedRows()
        return [index.data(Role.RECORD) for index in rows]

    def selected_gids(self) -> list[str]:
        return [info.gid for info in self.selected_records()]

    @Slot()
    def _selection_changed(self) -> None:
        self._update_actions()
        records = self.selected_records()
        if len(records) == 1:
            self._fetch_details(records[0].gid)
        else:
            self.details.clear()

    def _fetch_details(self, gid: str) -> None:
        # The worker hands back the same object for a row that did not change.
        self._details_for = self._controller.download(gid)

        def show(details: TaskDetails | None) -> None:
            if not Shiboken.isValid(self.table):
                return  # the window was deleted while the answer was on its way
            current = self.selected_gids()
            if current == [gid]:
                self.details.show_details(details)

        self._controller.fetch_details(gid, show)

    def _update_actions(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        # Statuses of a huge selection (select all of 10,000) are sampled: the
        # buttons only need to know which kinds of rows are selected.
        sample = rows if len(rows) <= _ACTION_SAMPLE else rows[:_ACTION_SAMPLE]
        self.window_actions.update_enabled([index.data(Role.RECORD) for index in sample])

    # -- table events ----------------------------------------------------------
    @Slot(QPoint)
    def _context_menu(self, position: QPoint) -> None:
        self.window_actions.context_menu().popup(self.table.viewport().mapToGlobal(position))

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        info = index.data(Role.RECORD)
        if isinstance(info, DownloadInfo) and info.status == "complete":
            self.window_actions.open_path(self._controller.file_path(info.gid))

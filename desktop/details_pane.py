"""The details of the selected download: files, links, peers, and why it failed.

It shows a :class:`~aria2_core.models.TaskDetails` and nothing else; the
window fetches that through the controller. For a torrent or metalink the
file list has checkboxes, and "Apply" sends the choice to aria2
(``select-file``); a refresh never overwrites a choice not yet applied.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aria2_core.formatting import format_size, format_speed
from aria2_core.models import TaskDetails

from .aria2_errors import error_sentence, leftover_note


def _tree(headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setHeaderLabels(headers)
    tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    tree.header().setStretchLastSection(False)
    for column in range(1, len(headers)):
        tree.header().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return tree


def _error_text(details: TaskDetails) -> str:
    """Why it failed (a sentence), aria2's own words, and what it left on disk."""
    lines = [error_sentence(details.error_code, details.error_message)]
    if details.error_message and details.error_message not in lines:
        lines.append(details.error_message)
    paths = [Path(f.path) for f in details.files if f.path and f.selected]
    note = leftover_note(details.error_code, paths)
    if note:
        lines.append(note)
    return "\n\n".join(lines)


class DetailsPane(QTabWidget):
    """Tabs for one download; emits ``files_selected(gid, indexes)`` on Apply."""

    files_selected = Signal(str, list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("details-pane")
        self._gid = ""
        self._dirty = False
        self._filling = False

        files_page = QWidget()
        self.files = _tree([self.tr("File"), self.tr("Size"), self.tr("Done")])
        self.files.itemChanged.connect(self._file_toggled)
        self.apply_button = QPushButton(self.tr("Apply file selection"))
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self._apply)
        self.files_hint = QLabel()
        self.files_hint.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.files_hint, 1)
        bottom.addWidget(self.apply_button)
        layout = QVBoxLayout(files_page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.files)
        layout.addLayout(bottom)

        self.links = _tree([self.tr("Link"), self.tr("State")])

        peers_page = QWidget()
        self.peers = _tree(
            [self.tr("Peer"), self.tr("↓ Speed"), self.tr("↑ Speed"), self.tr("Seeder")]
        )
        self.seeders = QLabel()
        peers_layout = QVBoxLayout(peers_page)
        peers_layout.setContentsMargins(4, 4, 4, 4)
        peers_layout.addWidget(self.seeders)
        peers_layout.addWidget(self.peers)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setMargin(8)

        self.addTab(files_page, self.tr("Files"))
        self.addTab(self.links, self.tr("Links"))
        self._peers_index = self.addTab(peers_page, self.tr("Peers"))
        self._error_index = self.addTab(self.error, self.tr("Error"))
        self.clear()

    @property
    def gid(self) -> str:
        return self._gid

    def clear(self) -> None:
        """Nothing (or several downloads) selected."""
        self._gid = ""
        self._dirty = False
        self._filling = True
        self.files.clear()
        self.links.clear()
        self.peers.clear()
        self._filling = False
        self.apply_button.setEnabled(False)
        self.files_hint.setText(self.tr("Select one download to see its details."))
        self.seeders.setText("")
        self.error.setText("")
        self.setTabVisible(self._peers_index, False)
        self.setTabVisible(self._error_index, False)

    def show_details(self, details: TaskDetails | None) -> None:
        if details is None:
            self.clear()
            return
        same = details.gid == self._gid
        self._gid = details.gid
        if not (same and self._dirty):
            self._fill_files(details)
        self.links.clear()
        for uri, state in details.uris:
            self.links.addTopLevelItem(QTreeWidgetItem([uri, state]))
        self.setTabVisible(self._peers_index, details.is_torrent)
        self.peers.clear()
        for peer in details.peers:
            item = QTreeWidgetItem(
                [
                    peer.address,
                    format_speed(peer.download_speed),
                    format_speed(peer.upload_speed),
                    self.tr("yes") if peer.seeder else "",
                ]
            )
            self.peers.addTopLevelItem(item)
        self.seeders.setText(
            self.tr("Seeders: {seeders} · Peers: {peers}").format(
                seeders=details.num_seeders, peers=len(details.peers)
            )
        )
        failed = details.error_code not in (None, 0) or bool(details.error_message)
        self.error.setText(_error_text(details) if failed else "")
        self.setTabVisible(self._error_index, failed)
        if failed and not same:
            self.setCurrentIndex(self._error_index)  # why it failed is what one looks for

    def _fill_files(self, details: TaskDetails) -> None:
        selectable = (details.is_torrent or len(details.files) > 1) and not details.from_history
        self._filling = True
        self.files.clear()
        for info in details.files:
            done = f"{info.completed_length * 100 // info.length}%" if info.length else "—"
            path = info.path or self.tr("(name not known yet)")
            item = QTreeWidgetItem([path, format_size(info.length) if info.length else "—", done])
            item.setData(0, Qt.ItemDataRole.UserRole, info.index)
            item.setToolTip(0, info.path)
            if selectable:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                state = Qt.CheckState.Checked if info.selected else Qt.CheckState.Unchecked
                item.setCheckState(0, state)
            self.files.addTopLevelItem(item)
        self._filling = False
        self._dirty = False
        self.apply_button.setEnabled(False)
        self.apply_button.setVisible(selectable)
        self.files_hint.setText(
            self.tr("Untick the files you do not want, then apply.") if selectable else ""
        )

    @Slot(QTreeWidgetItem, int)
    def _file_toggled(self, _item: QTreeWidgetItem, _column: int) -> None:
        if self._filling:
            return
        self._dirty = True
        self.apply_button.setEnabled(bool(self.checked_indexes()))

    def checked_indexes(self) -> list[int]:
        indexes = []
        for row in range(self.files.topLevelItemCount()):
            item = self.files.topLevelItem(row)
            if item is not None and item.checkState(0) == Qt.CheckState.Checked:
                indexes.append(int(item.data(0, Qt.ItemDataRole.UserRole)))
        return indexes

    @Slot()
    def _apply(self) -> None:
        indexes = self.checked_indexes()
        if self._gid and indexes:
            self._dirty = False
            self.apply_button.setEnabled(False)
            self.files_selected.emit(self._gid, indexes)

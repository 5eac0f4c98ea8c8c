"""The download list's table view: columns sized for their content, the order added.

Built once by the main window over its filter/sort proxy. No sort column is
set, so the rows show in the order downloads were added (the model's own
order) and never jump while a download starts, pauses or ends; a header
click sorts, and a third click clears the sort again. Rows have one fixed
height, so a view of 10,000 rows never measures them one by one.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QCoreApplication, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from aria2_core.formatting import format_duration

from .download_model import Column
from .messages import duration_units
from .progress_delegate import ProgressDelegate
from .text_delegate import TextDelegate


class DownloadTable(QTableView):
    """The list's view; the window connects its menus, clicks and selection."""

    def __init__(self, model: QAbstractItemModel) -> None:
        super().__init__()
        self.setObjectName("downloads")
        self.setModel(model)
        self.setItemDelegate(TextDelegate(self))
        self.setItemDelegateForColumn(Column.PROGRESS, ProgressDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the order added
        header.setSortIndicatorClearable(True)
        self.setSortingEnabled(True)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        rows = self.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring
        rows.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        metrics = self.fontMetrics()
        samples = {
            Column.SIZE: "1023.9 MiB",
            Column.PROGRESS: "100.0% progress",
            Column.DOWN: "1023.9 KiB/s",
            Column.UP: "1023.9 KiB/s",
            Column.ETA: format_duration(99 * 3600 + 59 * 60, duration_units()),  # "99h 59m"
            Column.STATUS: QCoreApplication.translate("MainWindow", "Fetching metadata"),
            Column.CONNECTIONS: QCoreApplication.translate("MainWindow", "Connections"),
        }
        for column, sample in samples.items():
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 24)

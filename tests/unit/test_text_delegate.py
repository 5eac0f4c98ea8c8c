"""The text delegate fills a cell's style option as Qt's own delegate does, from one role."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from aria2_core.models import DownloadInfo
from desktop.download_model import COLUMNS, Column, DownloadFilterProxy, DownloadTableModel
from desktop.download_table import DownloadTable
from desktop.text_delegate import TextDelegate

HAS_DISPLAY = QStyleOptionViewItem.ViewItemFeature.HasDisplay


class QtDelegate(QStyledItemDelegate):
    """Qt's delegate, subclassed only so that its protected initStyleOption can be called."""


def option_of(delegate: QStyledItemDelegate, table: DownloadTable, row: int, column: int):
    option = QStyleOptionViewItem()
    option.initFrom(table.viewport())
    index = table.model().index(row, column)
    delegate.initStyleOption(option, index)
    return option


def test_text_cells_match_qt_delegate(qtbot) -> None:
    model = DownloadTableModel()
    info = DownloadInfo(
        gid="a" * 16,
        status="active",
        total_length=5_000_000,
        completed_length=1_000_000,
        download_speed=4096,
        upload_speed=0,
        connections=3,
        name="ubuntu.iso",
    )
    model.update([info, dataclasses.replace(info, gid="b" * 16, status="paused", name="")])
    proxy = DownloadFilterProxy()
    proxy.setSourceModel(model)
    table = DownloadTable(proxy)
    qtbot.addWidget(table)
    ours, qt = TextDelegate(table), QtDelegate(table)
    assert table.itemDelegate().__class__ is TextDelegate
    checked = 0
    for row in range(proxy.rowCount()):
        for column in range(COLUMNS):
            if column == Column.PROGRESS:
                continue  # painted as a bar by its own delegate
            mine, theirs = option_of(ours, table, row, column), option_of(qt, table, row, column)
            assert mine.text == theirs.text, (row, column)
            assert mine.displayAlignment == theirs.displayAlignment, (row, column)
            assert bool(mine.features & HAS_DISPLAY) == bool(theirs.features & HAS_DISPLAY)
            assert mine.index == theirs.index
            checked += 1
    assert checked == 2 * (COLUMNS - 1)
    assert option_of(ours, table, 0, Column.NAME).text == "ubuntu.iso"

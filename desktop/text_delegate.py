"""Paints the list's text cells after asking the model one question per cell, not seven.

``QStyledItemDelegate.initStyleOption`` asks every painted cell for seven
roles (display, decoration, font, alignment, background, foreground, check
state). Through the sort/filter proxy each question is three calls into
Python (the proxy maps the index to the source, whose C++ ``index()`` asks
Python for ``rowCount`` and ``columnCount``, then ``data``). A paint of 13
rows made about 2,000 such calls and took 5–10 ms of the GUI thread: the
longest stall while a 1,000-link drop fills the list (issue 11).

The download model sets only the display text and, for the numeric
columns, the alignment (``NUMERIC``, the same set its ``data`` reads).
This delegate fills exactly those: one ``data`` call per cell. Tooltips
still come from the model on demand; they are not part of a paint.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from .download_rows import NUMERIC

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_DISPLAY = Qt.ItemDataRole.DisplayRole
_HAS_DISPLAY = QStyleOptionViewItem.ViewItemFeature.HasDisplay


class TextDelegate(QStyledItemDelegate):
    """A styled text cell: the model's display text, right-aligned in numeric columns."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        if isinstance(index, QModelIndex):  # what a view passes; the style may read it
            option.index = index
        text = index.data(_DISPLAY)
        if text is not None:
            option.text = str(text)
            option.features |= _HAS_DISPLAY
        if index.column() in NUMERIC:
            option.displayAlignment = _RIGHT

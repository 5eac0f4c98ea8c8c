"""Draws the progress column as a bar, from the model's ``Role.PROGRESS`` value (0..1).

A delegate paints with the current style, so the bar looks native and costs
no widget per row (a ``QProgressBar`` per row would be 10,000 widgets).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from .download_model import Role

_STEPS = 1000  # progress-bar resolution: 0.1 %


class ProgressDelegate(QStyledItemDelegate):
    """A styled progress bar with the percentage as its text."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        # The selection/alternate-row background first, straight from the
        # view's option: initStyleOption() would ask the model for eight roles
        # this cell never shows, and this runs for every painted row.
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)

        value = index.data(Role.PROGRESS)
        fraction = max(0.0, min(1.0, float(value))) if isinstance(value, int | float) else 0.0
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 3, -3, -3)
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        bar.direction = option.direction
        bar.fontMetrics = option.fontMetrics
        bar.palette = option.palette
        bar.minimum = 0
        bar.maximum = _STEPS
        bar.progress = round(fraction * _STEPS)
        bar.text = f"{fraction * 100:.1f}%"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 120), hint.height())

"""What the download list shows on top of its rows: the empty-list hint, the drop highlight.

Both are plain child widgets of the table's viewport that follow its size,
so they need no painting in the table or the delegate:

* :class:`EmptyHint` tells a new user what to do with an empty list
  ("Drop links here or press Ctrl+V") and hides as soon as a row shows;
* :class:`DropHighlight` marks the window as a drop target while a drag is
  over it, so the user sees the drop will be taken before letting go.

Neither takes mouse events: clicks and drops go to the table and window below.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractItemView, QLabel, QWidget


class _Overlay(QWidget):
    """A transparent child that covers its parent and lets events through."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        parent.installEventFilter(self)
        self.setGeometry(parent.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            isinstance(watched, QWidget)
            and watched is self.parent()
            and event.type() == QEvent.Type.Resize
        ):
            self.setGeometry(watched.rect())
        return False


class EmptyHint(_Overlay):
    """Centred grey text over an empty list; call :meth:`refresh` when rows change."""

    def __init__(self, view: QAbstractItemView, text: str) -> None:
        super().__init__(view.viewport())
        self.setObjectName("empty-hint")
        self._view = view
        self.label = QLabel(text, self)
        self.label.setObjectName("empty-hint-text")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setEnabled(False)  # the palette's disabled text: visible, not shouting
        font = self.label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.label.setFont(font)
        model = view.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self.refresh)
        model.layoutChanged.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: object) -> None:
        model = self._view.model()
        self.setVisible(model is None or model.rowCount() == 0)

    def resizeEvent(self, event: object) -> None:
        self.label.setGeometry(self.rect().adjusted(24, 24, -24, -24))


class DropHighlight(_Overlay):
    """A tinted frame with a line of text, shown while a drag is over the window."""

    def __init__(self, parent: QWidget, text: str) -> None:
        super().__init__(parent)
        self.setObjectName("drop-highlight")
        self._text = text
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        highlight = self.palette().highlight().color()
        tint = QColor(highlight)
        tint.setAlpha(40)
        painter.fillRect(self.rect(), tint)
        painter.setPen(QPen(highlight, 3))
        painter.drawRect(self.rect().adjusted(1, 1, -2, -2))
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(highlight)
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), self._text)

"""The floating drop zone: a small always-on-top target for links and files.

Frameless and on top of other windows, so a link can be dragged out of a
browser without first finding the main window. Drops go to the same
handler as the window's (one batch per drop), as the source "drop zone";
"Added ✓" shows once the handler says that drop's links are on disk. Drag it with the left mouse
button to move it; its place is remembered (``moved``) and restored on the
screen it was on, or in the bottom-right corner when that screen is gone.
Double-click shows the main window; right-click offers the rest.

On Wayland a window cannot place itself, so there the compositor decides
where it appears; moving it still works (``startSystemMove``).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QMouseEvent,
    QMoveEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QMenu, QWidget

from .drop_handling import DropHandler, DropOutcome, accept_as_copy
from .resources import icon

SIZE = 120
ZONE_SOURCE = "drop zone"  # a DropOutcome's source for drops on the zone
MARGIN = 24  # from the screen edge when placed by default
SAVE_DELAY_MS = 400
CONFIRM_MS = 2500


class DropZone(QWidget):
    """A small frameless target; emits what the user asks of it."""

    moved = Signal(QPoint)  # its new place, once it stopped moving
    hide_requested = Signal()
    add_requested = Signal()
    window_requested = Signal()
    # A drop's links are journaled (DropOutcome): the app confirms it if the window is hidden.
    dropped = Signal(object)

    def __init__(self, handler: DropHandler, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drop-zone")
        self._menu: QMenu | None = None
        self.setWindowTitle(self.tr("Aria Tray drop zone"))
        self.setWindowFlags(
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        # macOS hides tool windows while another app is active; a drop target must stay.
        self.setAttribute(Qt.WidgetAttribute.WA_MacAlwaysShowToolWindow)
        self.setAcceptDrops(True)
        self.setFixedSize(SIZE, SIZE)
        self.setToolTip(self.tr("Drop links, magnet links or .torrent files here"))
        self._handler = handler
        handler.handled.connect(self._handled)
        self._hovered = False
        self._press: QPoint | None = None  # cursor offset while dragging by hand
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(lambda: self.moved.emit(self.pos()))
        self._confirmed = False  # "Added" shows instead of the hint for a moment
        self._confirm_timer = QTimer(self)
        self._confirm_timer.setSingleShot(True)
        self._confirm_timer.setInterval(CONFIRM_MS)
        self._confirm_timer.timeout.connect(self._end_confirm)

    # -- placement ----------------------------------------------------------------
    def place(self, pos: tuple[int, int] | None) -> None:
        """Move to ``pos`` if it is on a screen now, else to the default corner."""
        if pos is not None:
            target = QRect(QPoint(*pos), self.size())
            for screen in QGuiApplication.screens():
                if screen.availableGeometry().intersects(target):
                    self.move(target.topLeft())
                    return
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        self.move(area.right() - SIZE - MARGIN, area.bottom() - SIZE - MARGIN)

    def moveEvent(self, event: QMoveEvent) -> None:
        super().moveEvent(event)
        if self.isVisible():
            self._save_timer.start()  # once, after the move settles

    # -- drawing ------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        highlight = palette.highlight().color()
        painter.fillRect(self.rect(), palette.window())
        if self._hovered:
            tint = QColor(highlight)
            tint.setAlpha(60)
            painter.fillRect(self.rect(), tint)
        pen = QPen(highlight if self._hovered else palette.mid().color(), 2)
        pen.setStyle(Qt.PenStyle.SolidLine if self._hovered else Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRect(self.rect().adjusted(1, 1, -2, -2))
        side = 48
        icon().paint(painter, QRect((SIZE - side) // 2, 16, side, side))
        painter.setPen(palette.windowText().color())
        text_rect = QRect(6, 16 + side + 4, SIZE - 12, SIZE - side - 24)
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        text = self.tr("Added ✓") if self._confirmed else self.tr("Drop links here")
        painter.drawText(text_rect, int(flags), text)

    @property
    def confirming(self) -> bool:
        """True while the zone says "Added" after a drop."""
        return self._confirmed

    def _end_confirm(self) -> None:
        self._confirmed = False
        self.update()

    # -- drops --------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if accept_as_copy(event):
            self._set_hovered(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if not accept_as_copy(event):
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_hovered(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_hovered(False)
        if not accept_as_copy(event) or not self._handler(event.mimeData(), ZONE_SOURCE):
            event.ignore()

    def _handled(self, outcome: DropOutcome) -> None:
        """A drop on the zone is on disk: say so (only now, so what was shown is kept)."""
        if outcome.source == ZONE_SOURCE and outcome.added:
            self.dropped.emit(outcome)
            self._confirm()

    def _confirm(self) -> None:
        """Say "Added" in the zone for a moment: the window may be hidden, the drop unseen."""
        self._confirmed = True
        self.update()
        self._confirm_timer.start()

    def _set_hovered(self, hovered: bool) -> None:
        if hovered != self._hovered:
            self._hovered = hovered
            self.update()

    # -- moving by hand -----------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        handle = self.windowHandle()
        if handle is not None and handle.startSystemMove():
            return  # the window manager moves it (and Wayland needs that)
        self._press = event.globalPosition().toPoint() - self.pos()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is not None:
            self.move(event.globalPosition().toPoint() - self._press)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.window_requested.emit()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.context_menu().popup(event.globalPos())

    def context_menu(self) -> QMenu:
        """Built once and shown again at every right-click (a new one per click leaked)."""
        if self._menu is None:
            menu = QMenu(self)
            menu.addAction(self.tr("Add download…"), self.add_requested.emit)
            menu.addAction(self.tr("Show/Hide window"), self.window_requested.emit)
            menu.addSeparator()
            menu.addAction(self.tr("Hide drop zone"), self.hide_requested.emit)
            self._menu = menu
        return self._menu

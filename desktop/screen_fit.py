"""Keep a top-level window inside the screen it is shown on.

A size chosen in logical pixels (980 x 600) is 1470 device pixels wide at
``QT_SCALE_FACTOR=1.5``: wider than a 1280-pixel screen, with the title bar
or the right edge out of reach. Before a window is shown it is shrunk to
the available area of its screen (panels excluded, a margin left for the
window manager's frame) and moved back inside it.
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

FRAME_MARGIN = 32  # room for the window manager's title bar and borders


def fitted(geometry: QRect, area: QRect, margin: int = FRAME_MARGIN) -> QRect:
    """``geometry`` shrunk to fit ``area`` less ``margin``, and moved inside it."""
    width = max(1, min(geometry.width(), area.width() - margin))
    height = max(1, min(geometry.height(), area.height() - margin))
    x = min(max(geometry.x(), area.left()), area.left() + area.width() - width)
    y = min(max(geometry.y(), area.top()), area.top() + area.height() - height - margin // 2)
    return QRect(x, max(area.top(), y), width, height)


def fit_to_screen(widget: QWidget) -> None:
    """Resize and move ``widget`` so it fits its screen's available area."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    area = screen.availableGeometry()
    if area.isEmpty():
        return
    new = fitted(widget.geometry(), area)
    if new != widget.geometry():
        widget.setGeometry(new)

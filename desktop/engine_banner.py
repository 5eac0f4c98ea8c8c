"""The bar across the top of the window while the download engine has failed.

A failed aria2c is the one state in which nothing the list shows can move,
so it must be said where the user looks, with the reason (aria2's own
message, e.g. the option it refused) and the two ways out: fix the
settings, or try again. It follows ``Controller.engine_state_changed``
and hides itself as soon as the engine is back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QWidget

from .controller import EngineState
from .messages import aria2_refusal

_STYLE = (
    "#engine-banner { background: #fdecea; border: 1px solid #f1aeb5; border-radius: 4px; }"
    " #engine-banner QLabel { color: #7a1c1c; }"
)


class EngineBanner(QFrame):
    """Shown while the engine is FAILED; ``settings_requested`` / ``retry_requested``."""

    settings_requested = Signal()
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("engine-banner")
        self.setStyleSheet(_STYLE)
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        icon.setPixmap(warning.pixmap(size, size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = QLabel()
        self.text.setObjectName("engine-banner-text")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.settings_button = QPushButton(self.tr("Open Settings…"))
        self.settings_button.setObjectName("engine-banner-settings")
        self.settings_button.clicked.connect(self.settings_requested)
        self.retry_button = QPushButton(self.tr("Try again"))
        self.retry_button.setObjectName("engine-banner-retry")
        self.retry_button.clicked.connect(self.retry_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(icon)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    @Slot(str, str)
    def show_state(self, state: str, error: str) -> None:
        """Show the banner for a FAILED engine (with ``error``), hide it otherwise."""
        if state != EngineState.FAILED:
            self.hide()
            return
        error = aria2_refusal(error)  # a bad option: which one and why, in a sentence
        self.text.setText(
            self.tr(
                "The download engine has stopped, so no download can run.\n{error}\n"
                "Check the options in Settings (Advanced), then try again."
            ).format(error=error or self.tr("No reason was given."))
        )
        self.show()

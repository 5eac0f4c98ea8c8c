"""A path field for Settings: the line edit, its Browse… button, and a note under them.

The note is how a field says that the environment sets it for this run
(``ARIA_TRAY_DOWNLOAD_DIR``, ``ARIA_TRAY_ARIA2C``). Such a field shows the
value in use, locked, instead of a saved value nothing uses.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

# Ask the user for a path: (parent, current text) -> the chosen path, "" if cancelled.
Chooser = Callable[[QWidget, str], str]


class PathField(QWidget):
    """``edit`` + Browse… on one line, ``note`` (hidden unless locked) under them."""

    def __init__(self, name: str, choose: Chooser, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._choose = choose
        self.edit = QLineEdit()
        self.edit.setObjectName(name)
        self.browse = QPushButton(self.tr("Browse…"))
        self.browse.clicked.connect(self._browse)
        self.note = QLabel()
        self.note.setObjectName(f"{name}-note")
        self.note.setWordWrap(True)
        self.note.setEnabled(False)  # greyed, like the dialog's other hints
        self.note.hide()
        line = QHBoxLayout()
        line.addWidget(self.edit, 1)
        line.addWidget(self.browse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(line)
        layout.addWidget(self.note)

    def lock(self, value: str, why: str) -> None:
        """Show ``value``, set from outside for this run: read-only, ``why`` said under it."""
        self.edit.setText(value)
        self.edit.setEnabled(False)
        self.edit.setToolTip(why)
        self.browse.setEnabled(False)
        self.note.setText(why)
        self.note.show()

    def is_locked(self) -> bool:
        return not self.edit.isEnabled()

    def _browse(self) -> None:
        chosen = self._choose(self, self.edit.text())
        if chosen:
            self.edit.setText(chosen)

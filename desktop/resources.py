"""Find bundled resources (icons, translations) in every way we ship.

* frozen by PyInstaller: ``<_MEIPASS>/resources``;
* a source checkout or editable install: ``<repo>/resources``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon


def resources_dir() -> Path:
    frozen_base = getattr(sys, "_MEIPASS", None)
    if frozen_base:
        return Path(frozen_base) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def icon(name: str = "aria-tray") -> QIcon:
    """The named SVG icon, or the app icon from the theme when missing."""
    path = resources_dir() / "icons" / f"{name}.svg"
    if path.is_file():
        return QIcon(str(path))
    return QIcon.fromTheme("folder-download")

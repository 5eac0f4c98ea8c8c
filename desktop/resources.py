"""Find bundled resources (icons, translations) in every way we ship.

* frozen by PyInstaller: ``<_MEIPASS>/resources`` (``build.spec`` puts them there);
* installed with pip (``pip install .``): ``aria_tray/resources`` (the
  ``aria_tray.resources`` folder), which ``pyproject.toml`` maps onto the
  repository's ``resources/`` folder;
* a source checkout (``python main.py``) or an editable install: ``<repo>/resources``.

The package is located with ``importlib.util.find_spec`` rather than
imported, and Qt is imported only by :func:`icon`, so ``--register`` and
other Qt-free callers can ask for file paths cheaply.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

RESOURCES_PACKAGE = "aria_tray.resources"
APP_ICON = "aria-tray"


def _installed_dir() -> Path | None:
    """The folder of the installed ``aria_tray.resources``, if any."""
    try:
        spec = importlib.util.find_spec(RESOURCES_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location)
        if (folder / "icons").is_dir():
            return folder
    return None


def resources_dir() -> Path:
    """The folder holding ``icons/`` (and later ``translations/``)."""
    frozen_base = getattr(sys, "_MEIPASS", None)
    if frozen_base:
        return Path(frozen_base) / "resources"
    installed = _installed_dir()
    if installed is not None:
        return installed
    return Path(__file__).resolve().parent.parent / "resources"


def icon_path(name: str = APP_ICON, suffix: str = ".svg") -> Path:
    """The path of a bundled icon file (it may not exist: callers check)."""
    return resources_dir() / "icons" / f"{name}{suffix}"


def icon(name: str = APP_ICON) -> QIcon:
    """The named SVG icon, or the app icon from the theme when missing."""
    from PySide6.QtGui import QIcon

    path = icon_path(name)
    if path.is_file():
        return QIcon(str(path))
    return QIcon.fromTheme("folder-download")

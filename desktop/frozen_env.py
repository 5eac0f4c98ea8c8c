"""The environment a frozen (PyInstaller) Aria Tray hands to other programs.

On Linux the bootloader puts the bundle's ``_internal`` folder first on
``LD_LIBRARY_PATH`` (keeping the user's value in ``LD_LIBRARY_PATH_ORIG``)
and re-executes itself, so the bundled Qt and Python libraries load. Every
program we start inherits that variable: ``xdg-open`` and the file manager
behind "Open download folder" would load our copies of glib, libstdc++ or
fontconfig instead of the system's and can die with symbol errors. It also
sets ``_PYI_*`` variables that make a PyInstaller-built child believe it is
a re-launch of us.

:func:`restore_process_environment` runs once at start-up and gives
``os.environ`` (which every child inherits) the user's ``LD_LIBRARY_PATH``
back. That does not affect this process: the dynamic loader read the
variable when the process started, and Qt finds its plugins' libraries
through their RUNPATH. :func:`child_environment` is the stricter version
for aria2c, which also drops the bootloader's own variables.

On Windows the windowed ``AriaTray.exe`` has no console, so ``--status``
and the other printing commands would print nowhere:
:func:`attach_parent_console` borrows the console it was started from.

Qt-free and import-light: ``desktop.cli`` calls these on every launch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping, Sequence

LIBRARY_PATH = "LD_LIBRARY_PATH"
SAVED_LIBRARY_PATH = "LD_LIBRARY_PATH_ORIG"
BOOTLOADER_PREFIXES = ("_PYI_", "_MEIPASS")
OWN_VARIABLES = ("ARIA_TRAY_HOME", "PYINSTALLER_RESET_ENVIRONMENT")
# Commands that print and exit; only these may borrow a console (see below).
PRINTING_FLAGS = frozenset(
    {"-h", "--help", "--version", "--status", "--quit", "--show", "--cleanup"}
    | {"--register", "--unregister"}
)
ATTACH_PARENT_PROCESS = 0xFFFFFFFF  # (DWORD)-1


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def _restore_library_path(env: MutableMapping[str, str]) -> None:
    original = env.get(SAVED_LIBRARY_PATH)
    if original:
        env[LIBRARY_PATH] = original
    else:
        env.pop(LIBRARY_PATH, None)


def restore_process_environment(frozen: bool | None = None) -> None:
    """In a frozen app, put the user's ``LD_LIBRARY_PATH`` back into ``os.environ``.

    ``LD_LIBRARY_PATH_ORIG`` stays, so calling this twice, or
    :func:`child_environment` afterwards, gives the same answer.
    """
    if frozen is None:
        frozen = is_frozen()
    if frozen and sys.platform.startswith("linux"):
        _restore_library_path(os.environ)


def child_environment(environ: Mapping[str, str], frozen: bool | None = None) -> dict[str, str]:
    """``environ`` cleaned for aria2c: no bundle library path, no bootloader or app variables.

    ``ARIA_TRAY_HOME`` is ours, not aria2c's; without a frozen build the
    environment is otherwise passed through untouched.
    """
    if frozen is None:
        frozen = is_frozen()
    env = dict(environ)
    if frozen:
        _restore_library_path(env)
        env.pop(SAVED_LIBRARY_PATH, None)
        for name in [n for n in env if n.startswith(BOOTLOADER_PREFIXES)]:
            del env[name]
    for name in OWN_VARIABLES:
        env.pop(name, None)
    return env


def attach_parent_console(argv: Sequence[str]) -> bool:
    """Windowed Windows build: let ``--status`` & co. print into the calling console.

    Only for commands that print and exit. A primary must never attach: a
    process attached to a console is killed when that console closes. When
    there is no parent console (started from Explorer), nothing changes.
    """
    if sys.platform != "win32" or sys.stdout is not None:
        return False
    if not PRINTING_FLAGS.intersection(argv):
        return False
    import ctypes

    try:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        if not kernel32.AttachConsole(ctypes.c_uint32(ATTACH_PARENT_PROCESS)):
            return False
        sys.stdout = open("CONOUT$", "w", errors="replace", buffering=1)  # noqa: SIM115
        sys.stderr = open("CONOUT$", "w", errors="replace", buffering=1)  # noqa: SIM115
    except (OSError, AttributeError):
        return False
    return True

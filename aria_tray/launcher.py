"""The ``aria-tray`` command of an installed Aria Tray.

The app's packages are installed as ``aria_tray/desktop`` and
``aria_tray/aria2_core`` but import each other as ``desktop`` and
``aria2_core`` (as in the source tree, ``python main.py`` and the frozen
build). This entry point puts the folder that holds them at the front of
``sys.path``, for this process only, and hands over to ``desktop.cli``.

The folder is found from this file, never by importing
``aria_tray.desktop`` (which would load every module twice, under two
names): installed, the packages sit beside this file in ``aria_tray/``; in
a checkout (an editable install) they sit beside the ``aria_tray/`` folder.
"""

from __future__ import annotations

import sys
from pathlib import Path


def app_root() -> Path:
    """The folder holding the ``desktop`` and ``aria2_core`` packages of this install."""
    here = Path(__file__).resolve().parent
    for root in (here, here.parent):  # installed; a checkout
        if (root / "desktop" / "cli.py").is_file() and (root / "aria2_core").is_dir():
            return root
    raise ImportError(f"Aria Tray's packages are not next to {here}; reinstall Aria Tray")


def main() -> int:
    root = str(app_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    from desktop.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Aria Tray launcher: ``python main.py [URL|FILE …] [--quit|--show|--status|--cleanup]``.

Kept tiny: everything lives in ``desktop.cli`` so that the source launcher,
the ``aria-tray`` entry point and the PyInstaller build run the same code.
"""

import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())

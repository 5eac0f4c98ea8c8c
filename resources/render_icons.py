"""Render the app icon's PNG and ICO from its SVG (run after editing the SVG).

.venv/bin/python resources/render_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent / "icons"


def render(svg: Path, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 (needed by QPainter)
    svg = HERE / "aria-tray.svg"
    ok = render(svg, 256).save(str(HERE / "aria-tray.png"))
    ok = render(svg, 256).save(str(HERE / "aria-tray.ico")) and ok
    print("rendered" if ok else "failed to render some icons")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

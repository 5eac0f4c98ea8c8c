"""A drag source in its own process: what a file manager or browser is to a real drop.

``python drag_source.py LINKS_FILE`` shows a small window titled
"drag source"; a left-button press on it starts a ``QDrag`` carrying the
lines of LINKS_FILE as ``text/uri-list`` (Copy or Move offered, as file
managers do). It prints ``ready`` once shown and, when the drag ends, the
action the target took (``dropped CopyAction``, or ``dropped IgnoreAction``
for a refusal). Tests drive the mouse with xdotool under Xvfb, so the drop
goes through the X server's XDND protocol like any desktop drop.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, Qt, QTimer
from PySide6.QtGui import QDrag, QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget


class Source(QWidget):
    def __init__(self, links: list[str]) -> None:
        super().__init__()
        self.links = links
        self.setWindowTitle("drag source")
        self.setFixedSize(200, 200)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        mime = QMimeData()
        mime.setData("text/uri-list", QByteArray("\r\n".join(self.links).encode()))
        drag = QDrag(self)
        drag.setMimeData(mime)
        action = drag.exec(Qt.DropAction.CopyAction | Qt.DropAction.MoveAction)
        print(f"dropped {action.name}", flush=True)


def main() -> None:
    app = QApplication(sys.argv[:1])
    links = Path(sys.argv[1]).read_text(encoding="utf-8").split()
    source = Source(links)
    source.move(0, 0)
    source.show()
    QTimer.singleShot(200, lambda: print("ready", flush=True))
    app.exec()


if __name__ == "__main__":
    main()

"""The clipboard watch: copied download links become a tray notice (off by default).

Event-driven: it listens to ``QClipboard.dataChanged`` only while it is
switched on, and reads nothing otherwise (no polling thread, no timer).
What counts as a download is :func:`aria2_core.clipboard_links.download_links`.
The same links copied again are not offered twice in a row.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QClipboard, QGuiApplication

from aria2_core.clipboard_links import download_links

from .drop_handling import mime_items

log = logging.getLogger("aria_tray.clipboard")


class ClipboardWatch(QObject):
    """Emits ``links_copied(links)`` when the clipboard starts holding download links."""

    links_copied = Signal(list)

    def __init__(self, clipboard: QClipboard | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clipboard = clipboard or QGuiApplication.clipboard()
        self._enabled = False
        self._last: list[str] = []

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        if enabled == self._enabled:
            return
        self._enabled = enabled
        if enabled:
            self._last = self._links_now()  # what is there already is not "copied"
            self._clipboard.dataChanged.connect(self._changed)
        else:
            self._clipboard.dataChanged.disconnect(self._changed)
        log.info("clipboard watch %s", "on" if enabled else "off")

    def _links_now(self) -> list[str]:
        mime = self._clipboard.mimeData()
        return download_links(mime_items(mime)) if mime is not None else []

    @Slot()
    def _changed(self) -> None:
        links = self._links_now()
        if links and links != self._last:
            self.links_copied.emit(links)
        self._last = links

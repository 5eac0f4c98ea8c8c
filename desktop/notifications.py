"""Desktop notifications when downloads complete or fail.

Driven by ``Controller.downloads_finished``, which carries each finished
download once, at the refresh that moves it into the history (so a
restart never notifies twice), and by ``Controller.seeding_started``: a
torrent that has all its data is downloaded, though aria2 keeps it active
while it seeds. Finished downloads of one refresh make one message, not a
burst. A click on a "complete" message opens the folder
that holds the download. Settings can switch them off; the app's own
notices (bad links, the engine stopped) are not affected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices

from aria2_core.download_files import containing_folder
from aria2_core.models import DownloadInfo

from .aria2_errors import error_sentence

if TYPE_CHECKING:
    from .controller import Controller
    from .tray import Tray

log = logging.getLogger("aria_tray.notifications")

MAX_NAMES = 5


def open_folder(folder: Path) -> bool:
    """Open ``folder`` in the file manager; False when nothing could."""
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))


class Notifier(QObject):
    """Turns finished downloads into tray messages."""

    # title, text, folder a click opens ("" for none); for the log and tests
    notified = Signal(str, str, str)

    def __init__(
        self,
        controller: Controller,
        tray: Tray,
        enabled: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tray = tray
        self.enabled = enabled
        # Replaceable in tests: what a click on a "complete" message does.
        self.open_folder: Callable[[Path], bool | None] = open_folder
        controller.downloads_finished.connect(self._on_finished)
        controller.seeding_started.connect(self._on_seeding)

    @Slot(object)
    def _on_finished(self, finished: list[DownloadInfo]) -> None:
        if not self.enabled:
            return
        done = [i for i in finished if i.status == "complete" and not i.is_metadata]
        failed = [i for i in finished if i.status in ("error", "removed")]
        if not done and not failed:
            return
        mixed = bool(done and failed)
        lines = [self._line(info, mixed) for info in (failed + done)[:MAX_NAMES]]
        rest = len(done) + len(failed) - len(lines)
        if rest > 0:
            lines.append(self.tr("… and %n more", "", rest))
        if done and failed:
            title = self.tr("{done}, {failed}").format(
                done=self.tr("%n downloaded", "", len(done)),
                failed=self.tr("%n failed", "", len(failed)),
            )
        elif failed:
            title = (
                self.tr("Download failed")
                if len(failed) == 1
                else self.tr("%n downloads failed", "", len(failed))
            )
        else:
            title = (
                self.tr("Download complete")
                if len(done) == 1
                else self.tr("%n downloads complete", "", len(done))
            )
        folder = containing_folder(done[-1]) if done else None
        on_click = (lambda: self._open(folder)) if folder is not None else None
        text = "\n".join(lines)
        self._tray.show_message(title, text, is_error=bool(failed), on_click=on_click)
        self.notified.emit(title, text, str(folder) if folder is not None else "")

    def _open(self, folder: Path) -> None:
        """A click on a "complete" message: open the folder, or say why not."""
        if self.open_folder(folder) is False:
            self._tray.show_message(
                self.tr("Could not open the folder"),
                self.tr("Nothing on this computer could open {path}.").format(path=folder),
                is_error=True,
            )

    @Slot(object)
    def _on_seeding(self, torrents: list[DownloadInfo]) -> None:
        """A torrent has all its data: it is downloaded, and now gives back (seeds)."""
        if not self.enabled:
            return
        lines = [info.name or info.gid for info in torrents[:MAX_NAMES]]
        if len(torrents) > len(lines):
            lines.append(self.tr("… and %n more", "", len(torrents) - len(lines)))
        lines.append(self.tr("Seeding until the limits in Settings are reached."))
        title = (
            self.tr("Download complete, now seeding")
            if len(torrents) == 1
            else self.tr("%n downloads complete, now seeding", "", len(torrents))
        )
        folder = containing_folder(torrents[-1])
        on_click = (lambda: self._open(folder)) if folder is not None else None
        text = "\n".join(lines)
        self._tray.show_message(title, text, on_click=on_click)
        self.notified.emit(title, text, str(folder) if folder is not None else "")

    def _line(self, info: DownloadInfo, mixed: bool = False) -> str:
        """A name (with why, if it failed); in a mixed message the good ones say so too."""
        name = info.name or info.gid
        if info.status == "complete":
            return self.tr("{name}: downloaded").format(name=name) if mixed else name
        reason = error_sentence(info.error_code, info.error_message)
        return self.tr("{name}: {reason}").format(name=name, reason=reason)

"""Drops onto the window or the drop zone: mime data in, one batch of links out.

The Qt part is only reading the mime data; what the items are is decided
by :func:`aria2_core.drop_payload.items_from_payload` and
:func:`aria2_core.links.parse_many`. Every good item of a drop goes to
``Controller.submit`` as **one** journal entry, which the controller hands
to aria2 as one ``system.multicall``; the bad ones are listed in one
notice, one line each. Parsing a thousand links takes milliseconds, and the
RPC runs on the worker, so a big drop never freezes the window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QDropEvent

from aria2_core.drop_payload import items_from_payload
from aria2_core.duplicates import AGAIN_OPTIONS, Duplicate
from aria2_core.links import parse_many

from .controller import Notice
from .duplicate_links import Ask, Choice, ask_with_a_box, split_duplicates
from .messages import link_problem

if TYPE_CHECKING:
    from .controller import Controller

log = logging.getLogger("aria_tray.drops")

URI_LIST = "text/uri-list"
MAX_LISTED = 10  # bad items named in the notice; the rest are counted


@dataclass
class DropOutcome:
    """What one drop did: how many links went in, and what was wrong with the rest."""

    added: int = 0
    problems: list[str] = field(default_factory=list)
    entry: str = ""


def mime_items(mime: QMimeData) -> list[str]:
    """The drop's items, read from its uri-list, HTML and plain-text flavours."""
    uri_list = None
    if mime.hasFormat(URI_LIST):
        uri_list = bytes(mime.data(URI_LIST).data()).decode("utf-8", "replace")
    elif mime.hasUrls():
        uri_list = "\n".join(url.toString() for url in mime.urls())
    html = mime.html() if mime.hasHtml() else None
    text = mime.text() if mime.hasText() else None
    return items_from_payload(uri_list, text, html)


def can_take(mime: QMimeData) -> bool:
    """Cheap check for drag-enter: does the drag carry anything we could read?"""
    return mime.hasUrls() or mime.hasText() or mime.hasHtml() or mime.hasFormat(URI_LIST)


def accept_as_copy(event: QDropEvent) -> bool:
    """Accept a drag (enter, move or drop) as a Copy, else a Link; never as a Move.

    We only read what is dropped. A Move tells the source it may delete the
    original, and a file manager that honours it would delete the user's
    ``.torrent``. Returns False (event untouched) when the drag carries
    nothing we could read or offers neither action. (``QDragEnterEvent``
    and ``QDragMoveEvent`` are ``QDropEvent``s.)
    """
    if not can_take(event.mimeData()):
        return False
    possible = event.possibleActions()
    for action in (Qt.DropAction.CopyAction, Qt.DropAction.LinkAction):
        if possible & action:
            event.setDropAction(action)
            event.accept()
            return True
    return False


class DropHandler(QObject):
    """Callable as the window's ``drop_handler``: ``handler(mime) -> bool``."""

    show_requested = Signal(str)  # gid: "Show it" for a link that is already a download

    def __init__(self, controller: Controller, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self.last_outcome = DropOutcome()  # what the last drop or paste did
        # Replaceable in tests: the question about links already in the list.
        self.ask_duplicates: Ask = lambda duplicates: ask_with_a_box(None, duplicates)

    def __call__(self, mime: QMimeData) -> bool:
        outcome = self.handle(mime)
        return outcome.added > 0

    def handle(self, mime: QMimeData, source: str = "drop") -> DropOutcome:
        """Add the good items as one batch; tell the user about the bad ones."""
        return self.submit_items(mime_items(mime), source)

    def submit_items(self, items: list[str], source: str) -> DropOutcome:
        outcome = self.last_outcome = DropOutcome()
        if not items:
            self._tell(
                self.tr("Nothing to add"),
                self.tr("The drop held no links, magnet links or .torrent/.metalink files."),
            )
            return outcome
        parsed = parse_many(items)
        outcome.problems = [link_problem(error) for error in parsed.errors]
        fresh, duplicates = split_duplicates(parsed.links, self._controller.downloads())
        if duplicates:  # asked once the drop is over: a modal box inside it stalls the source
            QTimer.singleShot(0, lambda: self._resolve(duplicates, source))
        if fresh:
            try:
                outcome.entry = self._controller.submit([link.value for link in fresh], source)
                outcome.added = len(fresh)
            except OSError as exc:
                self._tell(self.tr("Links not added"), str(exc))
                return outcome
        if outcome.problems:
            shown = outcome.problems[:MAX_LISTED]
            more = len(outcome.problems) - len(shown)
            if more:
                shown.append(self.tr("… and %n more", "", more))
            title = (
                self.tr("%n item(s) not added", "", len(outcome.problems))
                if outcome.added
                else self.tr("Nothing was added")
            )
            self._tell(title, "\n".join(shown))
        log.info("%s: %d link(s) added, %d rejected", source, outcome.added, len(outcome.problems))
        return outcome

    def _resolve(self, duplicates: list[Duplicate], source: str) -> None:
        """Ask about links already in the list; show the download, or add them again."""
        choice = self.ask_duplicates(duplicates)
        log.info("%s: %d link(s) already in the list: %s", source, len(duplicates), choice.value)
        if choice == Choice.SHOW:
            self.show_requested.emit(duplicates[0].existing.gid)
        elif choice == Choice.AGAIN:
            items = [d.link.value for d in duplicates]
            try:
                self._controller.submit(items, source, options=dict(AGAIN_OPTIONS))
            except OSError as exc:
                self._tell(self.tr("Links not added"), str(exc))

    def _tell(self, title: str, text: str) -> None:
        self._controller.notice.emit(Notice(title, text, is_error=True))

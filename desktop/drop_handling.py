"""Drops onto the window or the drop zone: mime data in, one batch of links out.

The Qt part is only reading the mime data; what the items are is decided
by :func:`aria2_core.drop_payload.items_from_payload` and
:func:`aria2_core.links.parse_many`. Every good item of a drop goes to
the journal as **one** entry, which the controller hands to aria2 as one
``system.multicall``; the bad ones are listed in one notice, one line each.

**Off the GUI thread.** Parsing 1,000 links, matching them against the
list for duplicates and the journal's fsync took 15–30 ms of the GUI
thread, longer than a frame. Now the GUI thread only reads the mime data
and checks that *one* item is a link (the drop is accepted or refused on
that); the rest runs on the controller's journal worker
(``Controller.submit_later``, the path of the doorbell's ``open``), and
:attr:`DropHandler.handled` reports the outcome once the good links are
on disk. Only then is a drop shown as added ("Added ✓", the tray
message, the notice about bad items), so what the user saw accepted is
never lost. The RPC runs on the RPC worker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QDropEvent

from aria2_core.drop_payload import items_from_payload
from aria2_core.duplicates import AGAIN_OPTIONS, Duplicate
from aria2_core.errors import LinkError
from aria2_core.links import parse_link, parse_many

from .controller import Batch, Notice
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

    source: str = "drop"
    added: int = 0
    problems: list[str] = field(default_factory=list)
    entry: str = ""
    duplicates: list[Duplicate] = field(default_factory=list)
    errors: list[LinkError] = field(default_factory=list)  # made into problems on the GUI thread


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


def any_link(items: Iterable[str]) -> bool:
    """Is at least one item a link? Parses items only until the first good one.

    That is the first item of almost every drop, so the GUI thread parses
    one link; only a drop with no good item at all is parsed whole here.
    """
    for item in items:
        try:
            parse_link(item)
        except LinkError:
            continue
        return True
    return False


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
    # DropOutcome of a drop, paste or copied batch, once its good links are
    # journaled (or refused): the moment it may be shown as added.
    handled = Signal(object)

    def __init__(self, controller: Controller, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self.last_outcome = DropOutcome()  # what the last handled drop or paste did
        # Replaceable in tests: the question about links already in the list.
        self.ask_duplicates: Ask = lambda duplicates: ask_with_a_box(None, duplicates)

    def __call__(self, mime: QMimeData, source: str = "drop") -> bool:
        return self.submit_items(mime_items(mime), source)

    def submit_items(self, items: list[str], source: str) -> bool:
        """Take a batch; True when any item is a link (a drop is then accepted).

        The batch is parsed, matched against the list and journaled on the
        journal worker; :attr:`handled` says what came of it.
        """
        outcome = DropOutcome(source)
        if not items:
            self._tell(
                self.tr("Nothing to add"),
                self.tr("The drop held no links, magnet links or .torrent/.metalink files."),
            )
            self._finish(outcome)
            return False
        known = self._controller.downloads()  # a snapshot: the worker reads no GUI state

        def prepare() -> list[Batch]:  # on the journal worker
            parsed = parse_many(items)
            fresh, outcome.duplicates = split_duplicates(parsed.links, known)
            outcome.errors = parsed.errors
            outcome.added = len(fresh)
            return [([link.value for link in fresh], {}, source)] if fresh else []

        def written(entries: list[str]) -> None:
            outcome.entry = entries[0] if entries else ""
            self._report(outcome)

        def failed(exc: BaseException) -> None:
            log.warning("%s: could not journal the links: %s", source, exc, exc_info=exc)
            outcome.added = 0
            self._tell(self.tr("Links not added"), str(exc) or type(exc).__name__)
            self._report(outcome)

        self._controller.submit_later(prepare, written, failed)
        return any_link(items)

    def _report(self, outcome: DropOutcome) -> None:
        """On the GUI thread, once journaled: bad items, duplicates, then ``handled``."""
        outcome.problems = [link_problem(error) for error in outcome.errors]
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
        log.info(
            "%s: %d link(s) added, %d rejected",
            outcome.source,
            outcome.added,
            len(outcome.problems),
        )
        self._finish(outcome)
        if outcome.duplicates:  # the drop is over: a modal box inside it would stall the source
            self._resolve(outcome.duplicates, outcome.source)

    def _finish(self, outcome: DropOutcome) -> None:
        self.last_outcome = outcome
        self.handled.emit(outcome)

    def _resolve(self, duplicates: list[Duplicate], source: str) -> None:
        """Ask about links already in the list; show the download, or add them again."""
        choice = self.ask_duplicates(duplicates)
        log.info("%s: %d link(s) already in the list: %s", source, len(duplicates), choice.value)
        if choice == Choice.SHOW:
            self.show_requested.emit(duplicates[0].existing.gid)
        elif choice == Choice.AGAIN:
            batch = ([d.link.value for d in duplicates], dict(AGAIN_OPTIONS), source)

            def failed(exc: BaseException) -> None:
                self._tell(self.tr("Links not added"), str(exc) or type(exc).__name__)

            self._controller.submit_later([batch], lambda _entries: None, failed)

    def _tell(self, title: str, text: str) -> None:
        self._controller.notice.emit(Notice(title, text, is_error=True))

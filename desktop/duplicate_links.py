"""The question a duplicate link asks: show the download that exists, or download again?

Drops, pastes and the add dialog run their parsed links through
:func:`split_duplicates` before they submit: links that are new go in as
before; links that are already downloads (``aria2_core.duplicates``) make one
question for the whole batch (a drop asks after the drop has ended, so the
dragging application is never kept waiting). "Show it" adds nothing and brings the existing
download into view; "Download again" adds them with
:data:`~aria2_core.duplicates.AGAIN_OPTIONS`, so aria2 really downloads into a
new file instead of calling the old one complete; "Skip" leaves them out.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from aria2_core.duplicates import Duplicate, find_duplicates
from aria2_core.links import Link
from aria2_core.models import DownloadInfo

MAX_NAMED = 5


class Choice(enum.Enum):
    SHOW = "show"
    AGAIN = "again"
    SKIP = "skip"


Ask = Callable[[list[Duplicate]], Choice]


def split_duplicates(
    links: list[Link], downloads: Iterable[DownloadInfo]
) -> tuple[list[Link], list[Duplicate]]:
    """``links`` as (new ones, duplicates of existing downloads), each in input order."""
    duplicates = find_duplicates(links, downloads)
    repeated = {id(d.link) for d in duplicates}
    return [link for link in links if id(link) not in repeated], duplicates


def ask_with_a_box(parent: QWidget | None, duplicates: list[Duplicate]) -> Choice:
    """The question as a message box; Escape or closing it skips."""

    translate = QCoreApplication.translate
    names = [d.existing.name or d.link.value for d in duplicates[:MAX_NAMED]]
    if len(duplicates) > len(names):
        names.append(
            translate("DuplicateLinks", "… ({count} in all)").format(count=len(duplicates))
        )
    box = QMessageBox(parent)
    box.setObjectName("duplicate-links")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(translate("DuplicateLinks", "Already in the list"))
    box.setText(translate("DuplicateLinks", "Already in the download list:"))
    box.setInformativeText("\n".join(names))
    show = box.addButton(translate("DuplicateLinks", "Show it"), QMessageBox.ButtonRole.AcceptRole)
    again = box.addButton(
        translate("DuplicateLinks", "Download again"), QMessageBox.ButtonRole.ActionRole
    )
    skip = box.addButton(translate("DuplicateLinks", "Skip"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(show)
    box.setEscapeButton(skip)
    box.exec()
    clicked = box.clickedButton()
    if clicked is show:
        return Choice.SHOW
    if clicked is again:
        return Choice.AGAIN
    return Choice.SKIP

"""What one download shows in the list, and the values it sorts by.

Pure functions of a :class:`DownloadInfo`, kept apart from the model's
bookkeeping (``download_model.py``) so both stay readable. Three views of a
row live here:

* :func:`display_text`: the text of each cell, translated;
* :func:`view_key`: everything a row shows, so equal keys mean "nothing to
  repaint";
* :func:`sort_key`: one plain value per column. The model computes it once
  per changed row and the proxy compares these cached tuples, instead of
  asking ``data()`` twice per comparison (a 1,000-link drop sorts its new
  rows with thousands of comparisons);

and :func:`row_matches`, whether a row belongs in the window's filter tab
and search.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QCoreApplication

from aria2_core.formatting import DurationUnits, format_duration, format_size, format_speed
from aria2_core.models import DownloadInfo


class Column(enum.IntEnum):
    NAME = 0
    SIZE = 1
    PROGRESS = 2
    DOWN = 3
    UP = 4
    ETA = 5
    STATUS = 6
    CONNECTIONS = 7


COLUMNS = len(Column)
NUMERIC = frozenset({Column.SIZE, Column.DOWN, Column.UP, Column.ETA, Column.CONNECTIONS})
_INF = float("inf")

FILTERS = ("all", "active", "waiting", "paused", "completed", "failed")
_FILTER_STATUSES: dict[str, frozenset[str]] = {
    "active": frozenset({"active"}),
    "waiting": frozenset({"waiting"}),
    "paused": frozenset({"paused"}),
    "completed": frozenset({"complete"}),
    "failed": frozenset({"error", "removed"}),
}


def status_text(info: DownloadInfo) -> str:
    """The status word a user reads (translated)."""
    texts = {
        "active": QCoreApplication.translate("DownloadTableModel", "Downloading"),
        "waiting": QCoreApplication.translate("DownloadTableModel", "Queued"),
        "paused": QCoreApplication.translate("DownloadTableModel", "Paused"),
        "error": QCoreApplication.translate("DownloadTableModel", "Failed"),
        "removed": QCoreApplication.translate("DownloadTableModel", "Removed"),
        "complete": QCoreApplication.translate("DownloadTableModel", "Completed"),
    }
    if info.is_seeding:
        return QCoreApplication.translate("DownloadTableModel", "Seeding")
    if info.status == "active" and info.is_metadata:
        return QCoreApplication.translate("DownloadTableModel", "Fetching metadata")
    return texts.get(info.status, info.status)


def queue_reason(active: Iterable[DownloadInfo], waiting: int, max_concurrent: int) -> str:
    """Why the ``waiting`` queued downloads wait (translated); "" when none is queued.

    aria2 starts the queue's head as soon as fewer than ``max_concurrent``
    of the ``active`` downloads run. Seeding torrents do not count
    (``bt-detach-seed-only``); magnets still fetching their metadata do, and
    are named, because they can wait for peers a long time.
    """
    if not waiting:
        return ""
    running = metadata = 0
    for info in active:
        if info.status == "active" and not info.is_seeding:
            running += 1
            metadata += info.is_metadata
    translate = QCoreApplication.translate
    if running < max_concurrent:
        return translate("DownloadTableModel", "Queued: starting as soon as aria2 gets to it.")
    text = translate(
        "DownloadTableModel",
        "Queued: the limit of downloads at the same time ({limit}, in Settings) is reached.",
    ).format(limit=max_concurrent)
    if metadata:
        text += " " + translate(
            "DownloadTableModel", "Magnet links still looking for peers count toward it: {count}."
        ).format(count=metadata)
    return text


def display_text(info: DownloadInfo, column: int, units: DurationUnits) -> str | None:
    """The text of one cell; ``units`` words the ETA (``messages.duration_units``)."""
    if column == Column.NAME:
        return info.name
    if column == Column.SIZE:
        return format_size(info.total_length) if info.total_length else "—"
    if column == Column.PROGRESS:
        return f"{info.progress * 100:.1f}%"
    if column == Column.STATUS:
        return status_text(info)
    if info.status != "active":
        return ""  # speeds, ETA and connections mean nothing for a row that does not run
    if column == Column.DOWN:
        return format_speed(info.download_speed)
    if column == Column.UP:
        return format_speed(info.upload_speed)
    if column == Column.ETA:
        # A seed has nothing left to download; aria2 keeps it active while it uploads.
        return "" if info.is_seeding else format_duration(info.eta_seconds, units)
    if column == Column.CONNECTIONS:
        if info.is_torrent and info.num_seeders:
            return f"{info.connections} ({info.num_seeders})"
        return str(info.connections)
    return None


def view_key(info: DownloadInfo, order: float) -> tuple[Any, ...]:
    """Everything a row shows, so equal keys mean "nothing to repaint"."""
    return (
        info.name,
        info.total_length,
        info.completed_length,
        info.download_speed,
        info.upload_speed,
        info.status,
        info.connections,
        info.num_seeders,
        info.error_message,
        order,
    )


def sort_key(info: DownloadInfo, order: float) -> tuple[Any, ...]:
    """The value each column sorts by, indexed by :class:`Column`.

    Every value is derived from fields in :func:`view_key`, so a row whose
    view key did not change keeps its sort key too. ``order`` is the status
    column's default order (see ``row_order``); an unknown ETA sorts last.
    """
    eta = info.eta_seconds
    return (
        info.name.casefold(),
        info.total_length,
        info.progress,
        info.download_speed,
        info.upload_speed,
        _INF if eta is None else float(eta),
        order,
        info.connections,
    )


def row_matches(info: DownloadInfo, status_filter: str, needle: str) -> bool:
    """Whether a row shows under ``status_filter`` (one of :data:`FILTERS`) and search.

    ``needle`` is the casefolded search text ("" = everything); it matches the
    name or any of the download's links.
    """
    allowed = _FILTER_STATUSES.get(status_filter)
    if allowed is not None and info.status not in allowed:
        return False
    if not needle or needle in info.name.casefold():
        return True
    return any(needle in uri.casefold() for f in info.files for uri in f.uris)

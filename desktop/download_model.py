"""The download list as a Qt item model, updated incrementally.

Every refresh brings the whole list (10,000 rows is a normal queue for some
people), but a view must not repaint or re-sort 10,000 rows because one
progress bar moved. So :meth:`DownloadTableModel.update` compares each row's
*displayed* values with the previous ones and emits ``dataChanged`` only for
rows that changed (contiguous runs share one signal), appends new rows in one
insert and removes vanished ones in contiguous ranges. History rows are the
same objects from one refresh to the next, so they are skipped by identity
without building their keys.

Rows keep their arrival order, and that is the window's default order: a
download stays where it was added while it starts, pauses or finishes.
:class:`DownloadFilterProxy` filters, and sorts when a column is chosen; the
status column sorts active, then the queue in aria2's order, then failed,
then completed, newest first.

A big insert goes in chunks (``insert_chunk`` rows, one chunk per turn of
the event loop; the window uses :data:`INSERT_CHUNK`): inserting 1,000 rows
into the sorted proxy and the view at once held the GUI thread 15–30 ms,
more than a frame. Between chunks the model is a consistent, shorter list;
an update that arrives meanwhile simply takes over what is left to insert.

Sorting is the costly part of a big insert: ``QSortFilterProxyModel`` sorts
a 1,000-row insert with ~6,000 comparisons, each of which made four calls
into Python (``index()`` twice, then ``data()`` twice). Now it makes one: the
model keeps every row's sort values in :attr:`DownloadTableModel.sort_keys`,
computed once when the row changes, the proxy's ``lessThan`` compares those,
and ``index()`` is the C++ one of the model's base class.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Sequence
from itertools import compress, count
from operator import attrgetter, is_not
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)

from aria2_core.history import HistoryDownload
from aria2_core.models import DownloadInfo

from .aria2_errors import error_sentence
from .download_rows import (
    COLUMNS,
    FILTERS,
    NUMERIC,
    Column,
    display_text,
    row_matches,
    sort_key,
    status_text,
    view_key,
)
from .messages import duration_units
from .row_order import queue_keys_and_moves

__all__ = ["FILTERS", "Column", "DownloadFilterProxy", "DownloadTableModel", "Role", "status_text"]

AnyIndex = QModelIndex | QPersistentModelIndex


class Role(enum.IntEnum):
    """Custom data roles; the values are stable for delegates and tests."""

    GID = Qt.ItemDataRole.UserRole + 1
    PROGRESS = Qt.ItemDataRole.UserRole + 2  # float 0..1 (the delegate draws the bar)
    SORT = Qt.ItemDataRole.UserRole + 3  # the column's plain sort value (see sort_keys)
    STATUS = Qt.ItemDataRole.UserRole + 4  # aria2's status word
    RECORD = Qt.ItemDataRole.UserRole + 5  # the DownloadInfo itself
    HISTORY = Qt.ItemDataRole.UserRole + 6  # bool: a history row (not in aria2)


# Default order: status group first, then a position inside the group.
_STATUS_RANK = {"active": 0, "waiting": 1, "paused": 1, "error": 2, "removed": 2, "complete": 3}
_QUEUED = frozenset({"waiting", "paused"})
_GID = attrgetter("gid")
_STATUS = attrgetter("status")
_GROUP = 1e13
_HISTORY_BASE = 1e11  # history rows: newest first within their group


_STANDARD_ROLES = (
    int(Qt.ItemDataRole.DisplayRole),
    int(Qt.ItemDataRole.TextAlignmentRole),
    int(Qt.ItemDataRole.ToolTipRole),
)
_ROLES = frozenset((*_STANDARD_ROLES, *(int(role) for role in Role)))
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_SORT = int(Role.SORT)
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
# Rows inserted per turn of the event loop in the window: a few ms each.
INSERT_CHUNK = 200


class DownloadTableModel(QAbstractTableModel):
    """Rows of :class:`DownloadInfo`, keyed by gid, updated with minimal signals.

    Sorting reads :attr:`sort_keys`, computed once per row when the row
    changes, so the proxy's comparisons never call back into ``data()``.
    With ``insert_chunk``, new rows go in at most that many per turn of the
    event loop (``inserting`` is True until all are in); without, at once.
    """

    def __init__(self, parent: Any = None, insert_chunk: int | None = None) -> None:
        super().__init__(parent)
        self._chunk = insert_chunk
        self._to_insert: dict[str, DownloadInfo] | None = None  # the update still going in
        self._insert_timer = QTimer(self)
        self._insert_timer.setSingleShot(True)
        self._insert_timer.setInterval(0)
        self._insert_timer.timeout.connect(self._insert_more)
        self._rows: list[DownloadInfo] = []
        self._keys: list[tuple[Any, ...]] = []  # view_key per row
        # sort_key per row, indexed like the rows: what the proxy's lessThan reads.
        self.sort_keys: list[tuple[Any, ...]] = []
        self._index: dict[str, int] = {}
        self._queue_keys: dict[str, int] = {}
        self._queue: list[str] = []
        self._first_seen: dict[str, int] = {}
        self._arrivals = itertools.count()
        self._units = duration_units()
        self.queue_reason = ""  # why waiting rows wait: their status tooltip (window sets it)
        self._headers = [
            QCoreApplication.translate("DownloadTableModel", "Name"),
            QCoreApplication.translate("DownloadTableModel", "Size"),
            QCoreApplication.translate("DownloadTableModel", "Progress"),
            QCoreApplication.translate("DownloadTableModel", "↓ Speed"),
            QCoreApplication.translate("DownloadTableModel", "↑ Speed"),
            QCoreApplication.translate("DownloadTableModel", "ETA"),
            QCoreApplication.translate("DownloadTableModel", "Status"),
            QCoreApplication.translate("DownloadTableModel", "Connections"),
        ]

    # -- Qt model API -------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMNS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._headers):
            if role == Qt.ItemDataRole.DisplayRole:
                return self._headers[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC:
                return _RIGHT
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else _NO_FLAGS  # asked for every painted cell

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid():
            return None  # a view asks for many roles we never set: answer those first
        row = index.row()
        if row >= len(self._rows):
            return None
        column = index.column()
        if role == _SORT:
            return self.sort_keys[row][column]
        info = self._rows[row]
        if role == _DISPLAY:
            return display_text(info, column, self._units)
        if role == Role.PROGRESS:
            return float(info.progress)
        if role == Role.GID:
            return info.gid
        if role == Role.STATUS:
            return info.status
        if role == Role.RECORD:
            return info
        if role == Role.HISTORY:
            return bool(getattr(info, "from_history", False))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.STATUS and info.status in ("error", "removed"):
                return error_sentence(info.error_code, info.error_message)
            if column == Column.STATUS and info.status == "waiting":
                return self.queue_reason or None
            if column == Column.NAME:
                return info.name
        return None

    # -- our API ------------------------------------------------------------
    def record(self, row: int) -> DownloadInfo:
        return self._rows[row]

    def row_of(self, gid: str) -> int:
        """The row of ``gid``, or -1."""
        return self._index.get(gid, -1)

    def gids(self) -> list[str]:
        return [r.gid for r in self._rows]

    def update(self, records: Sequence[DownloadInfo]) -> None:
        """Make the model show ``records`` with the fewest, narrowest signals.

        ``records`` come in aria2's order (active, then the queue, then the
        rest); the queue's order becomes the default sort order. Gids are
        unique (if one repeats, its last record wins). The whole-list passes
        are ``map``/``compress`` over C iterators: with 10,000 rows a Python
        loop per row would cost more than the rest of the refresh.
        """
        gids = list(map(_GID, records))
        incoming = dict(zip(gids, records, strict=True))
        if len(self._index.keys() & incoming.keys()) != len(self._rows):
            self._remove_missing(incoming)
        statuses = map(_STATUS, incoming.values())
        queue = list(compress(incoming.keys(), map(_QUEUED.__contains__, statuses)))
        moved: set[str] = set()
        if queue != self._queue:
            self._queue_keys, moved = queue_keys_and_moves(queue, self._queue_keys)
            self._queue = queue
        self._change_existing(incoming, moved)
        self._to_insert = None  # this update replaces what an earlier one left to insert
        if len(incoming) != len(self._rows):
            self._insert_new(incoming)

    @property
    def inserting(self) -> bool:
        """True while rows of the last update are still waiting to go in."""
        return self._to_insert is not None

    def _insert_more(self) -> None:
        incoming, self._to_insert = self._to_insert, None
        if incoming is not None:
            self._insert_new(incoming)

    def _order_of(self, info: DownloadInfo) -> float:
        """A row's default sort value (see ``row_order``): stable unless it moved."""
        base = _STATUS_RANK.get(info.status, 2) * _GROUP
        if isinstance(info, HistoryDownload):
            return base + (_HISTORY_BASE - info.finished_at)
        key = self._queue_keys.get(info.gid)
        if key is not None:
            return base + key
        seen = self._first_seen.get(info.gid)
        if seen is None:
            seen = self._first_seen[info.gid] = next(self._arrivals)
        return base + seen

    def _remove_missing(self, incoming: dict[str, DownloadInfo]) -> None:
        gone = [row for row, info in enumerate(self._rows) if info.gid not in incoming]
        # Remove from the bottom up so earlier row numbers stay valid.
        for first, last in reversed(_runs(gone)):
            self._remove_rows(first, last)
        self._index = {info.gid: row for row, info in enumerate(self._rows)}
        for gid in set(self._first_seen) - incoming.keys():
            del self._first_seen[gid]

    def _change_existing(self, incoming: dict[str, DownloadInfo], moved: set[str]) -> None:
        """Swap in the new records; signal the rows whose shown values changed.

        The controller hands back the *same* object for a download whose
        record did not change (history rows, and live rows equal to the last
        refresh), so only rows with a new object, or a queue row that moved,
        are compared at all.
        """
        old_rows = self._rows
        new_rows = list(map(incoming.__getitem__, map(_GID, old_rows)))
        candidates = list(compress(count(), map(is_not, old_rows, new_rows)))
        if moved:
            index = self._index
            candidates = sorted({*candidates, *(index[g] for g in moved if g in index)})
        self._rows = new_rows
        keys, sort_keys, order_of = self._keys, self.sort_keys, self._order_of
        changed: list[int] = []
        for row in candidates:
            new = new_rows[row]
            order = order_of(new)
            key = view_key(new, order)
            if key != keys[row]:
                keys[row] = key
                sort_keys[row] = sort_key(new, order)
                changed.append(row)
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, COLUMNS - 1))

    def _remove_rows(self, first: int, last: int) -> None:
        self.beginRemoveRows(QModelIndex(), first, last)
        del self._rows[first : last + 1]
        del self._keys[first : last + 1]
        del self.sort_keys[first : last + 1]
        self.endRemoveRows()

    def _insert_new(self, incoming: dict[str, DownloadInfo]) -> None:
        index = self._index
        fresh = [info for gid, info in incoming.items() if gid not in index]
        if not fresh:
            return
        if self._chunk is not None and len(fresh) > self._chunk:
            fresh = fresh[: self._chunk]
            self._to_insert = incoming
            self._insert_timer.start()  # the rest on the next turn: the window repaints between
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        for offset, info in enumerate(fresh):
            order = self._order_of(info)
            self._rows.append(info)
            self._keys.append(view_key(info, order))
            self.sort_keys.append(sort_key(info, order))
            index[info.gid] = first + offset
        self.endInsertRows()


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class DownloadFilterProxy(QSortFilterProxyModel):
    """Sorts by each column's plain sort value and filters by status group and text.

    Over a :class:`DownloadTableModel` it compares the model's cached
    :attr:`~DownloadTableModel.sort_keys` in :meth:`lessThan`: one call into
    Python per comparison instead of two ``data()`` calls and their
    conversions. Over any other model it behaves like its base class.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._filter = "all"
        self._needle = ""
        self._downloads: DownloadTableModel | None = None
        self.setSortRole(Role.SORT)
        self.setDynamicSortFilter(True)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    @property
    def status_filter(self) -> str:
        return self._filter

    def set_status_filter(self, name: str) -> None:
        """One of :data:`FILTERS`: all, active, waiting, paused, completed, failed."""
        if name not in FILTERS:
            raise ValueError(f"unknown filter {name!r}")
        if name != self._filter:
            self._change_filter(lambda: setattr(self, "_filter", name))

    def set_search_text(self, text: str) -> None:
        """Case-insensitive match against the name and the source links."""
        needle = text.strip().casefold()
        if needle != self._needle:
            self._change_filter(lambda: setattr(self, "_needle", needle))

    def _change_filter(self, change: Callable[[], None]) -> None:
        """Qt 6.10 wants begin/endFilterChange around the change; older Qt invalidates."""
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - Qt < 6.10
            change()
            self.invalidateRowsFilter()

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        self._downloads = model if isinstance(model, DownloadTableModel) else None
        super().setSourceModel(model)

    def lessThan(self, left: AnyIndex, right: AnyIndex) -> bool:
        model = self._downloads
        if model is None:
            return super().lessThan(left, right)
        keys, column = model.sort_keys, left.column()
        less: bool = keys[left.row()][column] < keys[right.row()][column]
        return less

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self._downloads
        if model is None or source_parent.isValid():
            return True
        if self._filter == "all" and not self._needle:
            return True  # the usual case, asked once per inserted row: answer it first
        return row_matches(model.record(source_row), self._filter, self._needle)

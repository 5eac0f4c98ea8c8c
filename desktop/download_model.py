"""The download list as a Qt item model, updated incrementally.

Every refresh brings the whole list (10,000 rows is a normal queue for some
people), but a view must not repaint or re-sort 10,000 rows because one
progress bar moved. So :meth:`DownloadTableModel.update` compares each row's
*displayed* values with the previous ones and emits ``dataChanged`` only for
rows that changed (contiguous runs share one signal), inserts new rows with
``beginInsertRows`` and removes vanished ones with ``beginRemoveRows``, in
contiguous ranges. History rows are the same objects from one refresh to the
next, so they are skipped by identity without building their keys.

Rows keep their arrival order; :class:`DownloadFilterProxy` sorts and
filters. The default order (the status column) is: active, then the queue in
aria2's order, then failed, then completed, newest first.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Sequence
from itertools import compress, count
from operator import attrgetter, is_not
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from aria2_core.formatting import format_duration, format_size, format_speed
from aria2_core.history import HistoryDownload
from aria2_core.models import DownloadInfo

from .row_order import queue_keys_and_moves

AnyIndex = QModelIndex | QPersistentModelIndex


class Column(enum.IntEnum):
    NAME = 0
    SIZE = 1
    PROGRESS = 2
    DOWN = 3
    UP = 4
    ETA = 5
    STATUS = 6
    CONNECTIONS = 7


_COLUMNS = len(Column)


class Role(enum.IntEnum):
    """Custom data roles; the values are stable for delegates and tests."""

    GID = Qt.ItemDataRole.UserRole + 1
    PROGRESS = Qt.ItemDataRole.UserRole + 2  # float 0..1 (the delegate draws the bar)
    SORT = Qt.ItemDataRole.UserRole + 3  # a plain value the proxy compares in C++
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

FILTERS = ("all", "active", "waiting", "completed", "failed")
_FILTER_STATUSES: dict[str, frozenset[str]] = {
    "active": frozenset({"active"}),
    "waiting": frozenset({"waiting", "paused"}),
    "completed": frozenset({"complete"}),
    "failed": frozenset({"error", "removed"}),
}

_ROLES = frozenset(
    int(role)
    for role in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ToolTipRole,
        *Role,
    )
)
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_NUMERIC = frozenset({Column.SIZE, Column.DOWN, Column.UP, Column.ETA, Column.CONNECTIONS})


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
    if info.status == "active" and info.total_length and info.completed_length >= info.total_length:
        return (
            QCoreApplication.translate("DownloadTableModel", "Seeding")
            if info.is_torrent
            else texts["active"]
        )
    if info.status == "active" and info.is_metadata:
        return QCoreApplication.translate("DownloadTableModel", "Fetching metadata")
    return texts.get(info.status, info.status)


def _view_key(info: DownloadInfo, order: float) -> tuple[Any, ...]:
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


class DownloadTableModel(QAbstractTableModel):
    """Rows of :class:`DownloadInfo`, keyed by gid, updated with minimal signals."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[DownloadInfo] = []
        self._keys: list[tuple[Any, ...]] = []
        self._index: dict[str, int] = {}
        self._queue_keys: dict[str, int] = {}
        self._queue: list[str] = []
        self._first_seen: dict[str, int] = {}
        self._arrivals = itertools.count()
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

    # -- Qt model API -----------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else _COLUMNS

    def index(
        self,
        row: int,
        column: int,
        parent: AnyIndex = QModelIndex(),  # noqa: B008
    ) -> QModelIndex:
        # Qt's version asks rowCount() and columnCount(), two calls into Python
        # per index; views and the proxy create indexes for every painted cell.
        if 0 <= row < len(self._rows) and 0 <= column < _COLUMNS and not parent.isValid():
            return self.createIndex(row, column)
        return QModelIndex()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._headers):
            if role == Qt.ItemDataRole.DisplayRole:
                return self._headers[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in _NUMERIC:
                return _RIGHT
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid():
            return None  # a view asks for many roles we never set: answer those first
        row = index.row()
        if row >= len(self._rows):
            return None
        info = self._rows[row]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(info, column)
        if role == Role.SORT:
            return self._sort_value(info, column, row)
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
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMERIC:
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.STATUS and info.error_message:
                return info.error_message
            if column == Column.NAME:
                return info.name
        return None

    def _display(self, info: DownloadInfo, column: int) -> str | None:
        if column == Column.NAME:
            return info.name
        if column == Column.SIZE:
            return format_size(info.total_length) if info.total_length else "—"
        if column == Column.PROGRESS:
            return f"{info.progress * 100:.1f}%"
        if column == Column.DOWN:
            return format_speed(info.download_speed) if info.status == "active" else ""
        if column == Column.UP:
            return format_speed(info.upload_speed) if info.status == "active" else ""
        if column == Column.ETA:
            if info.status != "active":
                return ""
            return format_duration(info.eta_seconds)
        if column == Column.STATUS:
            return status_text(info)
        if column == Column.CONNECTIONS:
            if info.status != "active":
                return ""
            if info.is_torrent and info.num_seeders:
                return f"{info.connections} ({info.num_seeders})"
            return str(info.connections)
        return None

    def _sort_value(self, info: DownloadInfo, column: int, row: int) -> Any:
        if column == Column.NAME:
            return info.name.casefold()
        if column == Column.SIZE:
            return info.total_length
        if column == Column.PROGRESS:
            return info.progress
        if column == Column.DOWN:
            return info.download_speed
        if column == Column.UP:
            return info.upload_speed
        if column == Column.ETA:
            eta = info.eta_seconds
            return float("inf") if eta is None else float(eta)
        if column == Column.CONNECTIONS:
            return info.connections
        return self._keys[row][-1]

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
        if len(incoming) != len(self._rows):
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
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            del self._keys[first : last + 1]
            self.endRemoveRows()
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
        keys, order_of = self._keys, self._order_of
        changed: list[int] = []
        for row in candidates:
            new = new_rows[row]
            key = _view_key(new, order_of(new))
            if key != keys[row]:
                keys[row] = key
                changed.append(row)
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, _COLUMNS - 1))

    def _insert_new(self, incoming: dict[str, DownloadInfo]) -> None:
        index = self._index
        fresh = [info for gid, info in incoming.items() if gid not in index]
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        for offset, info in enumerate(fresh):
            self._rows.append(info)
            self._keys.append(_view_key(info, self._order_of(info)))
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
    """Sorts by each column's plain sort value and filters by status group and text."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._filter = "all"
        self._needle = ""
        self.setSortRole(Role.SORT)
        self.setDynamicSortFilter(True)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    @property
    def status_filter(self) -> str:
        return self._filter

    def set_status_filter(self, name: str) -> None:
        """One of :data:`FILTERS`: all, active, waiting, completed, failed."""
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

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, DownloadTableModel) or source_parent.isValid():
            return True
        info = model.record(source_row)
        allowed = _FILTER_STATUSES.get(self._filter)
        if allowed is not None and info.status not in allowed:
            return False
        needle = self._needle
        if not needle:
            return True
        if needle in info.name.casefold():
            return True
        return any(needle in uri.casefold() for f in info.files for uri in f.uris)

"""The download table model: Qt's model contract and minimal, incremental signals."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QSignalSpy

from aria2_core.history import HistoryFile, HistoryRecord
from aria2_core.models import DownloadInfo, FileInfo
from desktop.download_model import Column, DownloadFilterProxy, DownloadTableModel, Role


def row(n: int, status: str = "active", **changes: Any) -> DownloadInfo:
    info = DownloadInfo(
        gid=f"{n:016x}",
        status=status,
        total_length=1_000_000,
        completed_length=n % 1_000_000,
        download_speed=1000 if status == "active" else 0,
        connections=2,
        name=f"file-{n}.bin",
        dir="/dl",
        files=[FileInfo(1, f"/dl/file-{n}.bin", 1_000_000, 0, True, (f"http://h/{n}.bin",))],
    )
    return dataclasses.replace(info, **changes)


def spies(model: DownloadTableModel) -> dict[str, QSignalSpy]:
    return {
        "changed": QSignalSpy(model.dataChanged),
        "inserted": QSignalSpy(model.rowsInserted),
        "removed": QSignalSpy(model.rowsRemoved),
        "reset": QSignalSpy(model.modelReset),
        "layout": QSignalSpy(model.layoutChanged),
    }


def ranges(spy: QSignalSpy) -> list[tuple[int, int]]:
    """(first row, last row) of each rowsInserted/rowsRemoved emission."""
    return [(spy.at(i)[1], spy.at(i)[2]) for i in range(spy.count())]


def test_qtmodeltester(qtmodeltester: Any) -> None:
    model = DownloadTableModel()
    history = HistoryRecord("h", "old.iso", "complete", 10, "/dl", (HistoryFile("/dl/old.iso"),))
    model.update([row(1), row(2, "paused"), row(3, "error"), history.to_download()])
    qtmodeltester.check(model, force_py=True)
    proxy = DownloadFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.STATUS)
    qtmodeltester.check(proxy, force_py=True)


def test_display_and_roles() -> None:
    model = DownloadTableModel()
    model.update([row(250_000, download_speed=2048)])
    index = model.index(0, Column.PROGRESS)
    assert model.data(index, Role.PROGRESS) == pytest.approx(0.25)
    assert model.data(model.index(0, Column.NAME)) == "file-250000.bin"
    assert model.data(model.index(0, Column.DOWN)) == "2.0 kB/s"
    assert model.data(model.index(0, Column.STATUS)) == "Downloading"
    assert model.data(index, Role.GID) == f"{250_000:016x}"
    assert model.data(index, Role.HISTORY) is False
    assert model.headerData(Column.SIZE, Qt.Orientation.Horizontal) == "Size"


def test_changing_one_row_of_10000_emits_one_data_changed_for_that_row() -> None:
    model = DownloadTableModel()
    rows = [row(n) for n in range(10_000)]
    model.update(rows)
    assert model.rowCount() == 10_000
    fresh = [dataclasses.replace(r) for r in rows]  # new objects, as every refresh brings
    fresh[4321] = dataclasses.replace(fresh[4321], completed_length=999_999)
    signals = spies(model)
    model.update(fresh)
    assert signals["changed"].count() == 1
    top_left, bottom_right = signals["changed"].at(0)[0], signals["changed"].at(0)[1]
    assert (top_left.row(), bottom_right.row()) == (4321, 4321)
    assert (top_left.column(), bottom_right.column()) == (0, len(Column) - 1)
    for name in ("inserted", "removed", "reset", "layout"):
        assert signals[name].count() == 0, name
    assert model.record(4321).completed_length == 999_999


def test_an_unchanged_refresh_emits_nothing() -> None:
    model = DownloadTableModel()
    rows = [row(n) for n in range(100)]
    model.update(rows)
    signals = spies(model)
    model.update([dataclasses.replace(r) for r in rows])
    assert all(spy.count() == 0 for spy in signals.values())


def test_inserts_append_and_removals_are_contiguous_ranges() -> None:
    model = DownloadTableModel()
    rows = [row(n) for n in range(10)]
    model.update(rows)
    signals = spies(model)
    keep = [r for n, r in enumerate(rows) if n not in (2, 3, 4, 7)]
    model.update([*keep, row(100), row(101)])
    # Removed bottom-up: 7 first, then the run 2..4.
    assert ranges(signals["removed"]) == [(7, 7), (2, 4)]
    assert ranges(signals["inserted"]) == [(6, 7)]
    assert signals["changed"].count() == 0 and signals["reset"].count() == 0
    assert model.gids() == [r.gid for r in keep] + [row(100).gid, row(101).gid]
    assert model.row_of(row(100).gid) == 6 and model.row_of(rows[2].gid) == -1


def test_a_status_change_is_one_data_changed() -> None:
    model = DownloadTableModel()
    rows = [row(n) for n in range(5)]
    model.update(rows)
    signals = spies(model)
    rows[1] = dataclasses.replace(rows[1], status="paused", download_speed=0)
    model.update(rows)
    assert signals["changed"].count() == 1
    assert model.data(model.index(1, Column.STATUS)) == "Paused"


def test_proxy_filters_and_search(qtbot: Any) -> None:
    model = DownloadTableModel()
    history = HistoryRecord("h", "Old.ISO", "complete", 10, "/dl", (HistoryFile("/dl/Old.ISO"),))
    model.update(
        [row(1), row(2, "waiting"), row(3, "paused"), row(4, "error"), history.to_download()]
    )
    proxy = DownloadFilterProxy()
    proxy.setSourceModel(model)

    def names() -> set[str]:
        return {proxy.index(r, 0).data() for r in range(proxy.rowCount())}

    assert proxy.rowCount() == 5
    proxy.set_status_filter("active")
    assert names() == {"file-1.bin"}
    proxy.set_status_filter("waiting")
    assert names() == {"file-2.bin"}
    proxy.set_status_filter("paused")
    assert names() == {"file-3.bin"}
    proxy.set_status_filter("completed")
    assert names() == {"Old.ISO"}
    proxy.set_status_filter("failed")
    assert names() == {"file-4.bin"}
    proxy.set_status_filter("all")
    proxy.set_search_text("old.iso")
    assert names() == {"Old.ISO"}
    proxy.set_search_text("HTTP://H/3")  # matches the link, case-insensitively
    assert names() == {"file-3.bin"}
    with pytest.raises(ValueError):
        proxy.set_status_filter("nope")


def test_default_order_is_active_queue_failed_completed() -> None:
    model = DownloadTableModel()
    old = HistoryRecord("old", "old", "complete", finished_at=100.0).to_download()
    new = HistoryRecord("new", "new", "complete", finished_at=200.0).to_download()
    model.update([row(1, "waiting"), old, row(2, "error"), row(3), row(4, "paused"), new, row(5)])
    proxy = DownloadFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.STATUS, Qt.SortOrder.AscendingOrder)
    order = [proxy.index(r, 0).data(Role.GID) for r in range(proxy.rowCount())]
    assert order == [row(3).gid, row(5).gid, row(1).gid, row(4).gid, row(2).gid, "new", "old"]


def test_rows_for_an_invalid_parent_are_empty() -> None:
    model = DownloadTableModel()
    model.update([row(1)])
    assert model.rowCount(model.index(0, 0)) == 0
    assert model.data(QModelIndex()) is None


def test_queue_head_starting_changes_only_that_row() -> None:
    model = DownloadTableModel()
    queue = [row(n, "waiting") for n in range(1000)]
    model.update(queue)
    signals = spies(model)
    started = dataclasses.replace(queue[0], status="active")
    model.update([started, *queue[1:]])
    assert signals["changed"].count() == 1
    assert signals["changed"].at(0)[0].row() == signals["changed"].at(0)[1].row() == 0


class CountingModel(DownloadTableModel):
    """Counts ``data()`` calls per role, to see what the proxy asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[int, int] = {}

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        self.calls[int(role)] = self.calls.get(int(role), 0) + 1
        return super().data(index, role)


def test_sorting_a_big_insert_reads_no_data() -> None:
    """The proxy compares cached sort keys: a 1,000-row insert asks data() for none.

    Qt's own lessThan asked data() twice per comparison, ~12,000 calls into
    Python for one drop of 1,000 links.
    """
    model = CountingModel()
    proxy = DownloadFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.STATUS)
    model.update([row(n, "waiting") for n in range(2000)])
    model.calls.clear()
    model.update([row(n, "waiting") for n in range(3000)])
    assert proxy.rowCount() == 3000
    assert model.calls.get(int(Role.SORT), 0) == 0
    assert sum(model.calls.values()) == 0


@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
@pytest.mark.parametrize(
    ("column", "value"),
    [
        (Column.NAME, lambda info: info.name.casefold()),
        (Column.SIZE, lambda info: info.total_length),
        (Column.PROGRESS, lambda info: info.progress),
        (Column.DOWN, lambda info: info.download_speed),
        (Column.ETA, lambda info: float("inf") if info.eta_seconds is None else info.eta_seconds),
        (Column.CONNECTIONS, lambda info: info.connections),
    ],
)
def test_each_column_sorts_by_its_value_and_keeps_up(
    column: Column, value: Any, order: Qt.SortOrder
) -> None:
    rows = [
        row(
            n,
            "active" if n % 3 else "paused",
            name=f"File-{(n * 7) % 40:02d}",
            total_length=1_000 + (n * 37) % 500,
            completed_length=(n * 13) % 900,
            download_speed=(n * 101) % 700 if n % 3 else 0,
            connections=n % 5,
        )
        for n in range(40)
    ]
    model = DownloadTableModel()
    proxy = DownloadFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(column, order)
    model.update(rows[:25])
    model.update(rows)  # an insert into a sorted proxy
    # and a change that moves a row: the proxy re-sorts it from the new key
    rows[3] = dataclasses.replace(rows[3], name="aaa", total_length=1, completed_length=0,
                                  download_speed=999, connections=9)  # fmt: skip
    model.update(rows)

    def shown() -> list[Any]:
        return [value(proxy.index(r, 0).data(Role.RECORD)) for r in range(proxy.rowCount())]

    assert shown() == sorted(shown(), reverse=order == Qt.SortOrder.DescendingOrder)
    assert sorted(shown()) == sorted(map(value, rows))


def test_the_model_contract_holds_through_inserts_changes_and_removals(
    qtmodeltester: Any,
) -> None:
    """qtmodeltester stays connected and checks every signal of the updates below.

    Rows change between begin/endInsertRows and begin/endRemoveRows with the
    Python lists kept in step; the tester reads rows next to each change,
    before and after, so a list out of step fails here. A sorted proxy
    listens too, as in the window (one tester follows one model only).
    """
    model = DownloadTableModel()
    rows = [row(n, "waiting") for n in range(30)]
    proxy = DownloadFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.STATUS)
    model.update(rows)
    qtmodeltester.check(model, force_py=True)
    rows[5] = dataclasses.replace(rows[5], status="active")
    keep = [r for n, r in enumerate(rows) if n not in (0, 1, 7, 8, 9, 29)]
    model.update([*keep, row(100), row(101, "paused")])
    model.update(keep[3:])
    model.update([])
    assert model.rowCount() == 0 and proxy.rowCount() == 0
    model.update(rows)
    assert [proxy.index(r, 0).data(Role.GID) for r in range(2)] == [rows[5].gid, rows[0].gid]


def test_the_model_is_read_only() -> None:
    model = DownloadTableModel()
    model.update([row(1)])
    index = model.index(0, Column.NAME)
    assert not model.setData(index, "renamed")
    assert not model.setItemData(index, {int(Qt.ItemDataRole.DisplayRole): "renamed"})
    assert model.data(index) == "file-1.bin"
    assert model.itemData(index)[int(Qt.ItemDataRole.DisplayRole)] == "file-1.bin"
    assert not model.flags(index) & Qt.ItemFlag.ItemIsEditable


def test_a_big_insert_goes_in_chunks_one_per_event_loop_turn(
    qtbot: Any, qtmodeltester: Any
) -> None:
    """1,000 new rows at once held the GUI thread 15-30 ms; in chunks each turn is short.

    Between turns the model is a consistent, shorter list (the model tester
    watches every signal), and an update that arrives before the last chunk
    takes over: its rows, in its order, and nothing of the older update.
    """
    model = DownloadTableModel(insert_chunk=4)
    proxy = DownloadFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.STATUS)
    qtmodeltester.check(model, force_py=True)  # one model per tester: it keeps watching
    spy = spies(model)
    first = [row(n, "waiting") for n in range(10)]
    model.update(first)
    assert model.rowCount() == 4 and model.inserting  # the first chunk, then the event loop
    assert ranges(spy["inserted"]) == [(0, 3)]
    qtbot.waitUntil(lambda: not model.inserting)
    assert model.gids() == [r.gid for r in first]
    assert ranges(spy["inserted"]) == [(0, 3), (4, 7), (8, 9)]
    assert proxy.rowCount() == 10

    # A newer list before the last chunk: rows 2 and 3 gone, 10..19 new.
    second = [r for r in first if r.gid not in (first[2].gid, first[3].gid)]
    second += [row(n, "waiting") for n in range(10, 20)]
    model.update(
        [row(n, "waiting") for n in range(10)] + [row(n, "waiting") for n in range(10, 16)]
    )
    assert model.inserting
    model.update(second)
    qtbot.waitUntil(lambda: not model.inserting)
    assert model.gids() == [r.gid for r in second]
    assert len(set(model.gids())) == len(second)  # none twice
    assert proxy.rowCount() == len(second)
    assert spy["reset"].count() == 0 and spy["layout"].count() == 0


def test_without_a_chunk_size_everything_goes_in_at_once() -> None:
    model = DownloadTableModel()
    model.update([row(n, "waiting") for n in range(1000)])
    assert model.rowCount() == 1000 and not model.inserting

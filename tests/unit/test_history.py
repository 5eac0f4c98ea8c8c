"""The history store: durable, atomic, bounded, and tolerant of a broken file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from aria2_core.history import (
    HistoryDownload,
    HistoryFile,
    HistoryRecord,
    HistoryStore,
    should_record,
)
from aria2_core.models import DownloadInfo, FileInfo
from support.platforms import POSIX_MODES, only_on


def record(gid: str, finished_at: float = 1.0, status: str = "complete") -> HistoryRecord:
    return HistoryRecord(
        gid=gid,
        name=f"{gid}.bin",
        status=status,
        total_length=100,
        dir="/dl",
        files=(HistoryFile(f"/dl/{gid}.bin", (f"http://example.com/{gid}.bin",), 100),),
        error_code=None if status == "complete" else 3,
        error_message="" if status == "complete" else "Resource not found",
        finished_at=finished_at,
    )


def test_records_survive_a_reload(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    store = HistoryStore(path)
    store.add(record("a", 1.0))
    store.merge([record("b", 2.0), record("c", 3.0, "error")])
    again = HistoryStore(path)
    assert [r.gid for r in again.records()] == ["a", "b", "c"]
    assert again.get("c") == record("c", 3.0, "error")
    assert "a" in again and len(again) == 3


@only_on("posix", POSIX_MODES)
def test_file_is_private_and_no_temp_files_remain(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    HistoryStore(path).add(record("a"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]
    assert json.loads(path.read_text())["version"] == 1


def test_remove_and_clear(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    store = HistoryStore(path)
    store.merge([record("a"), record("b"), record("c")])
    gone = store.remove(["b", "zzz"])
    assert [r.gid for r in gone] == ["b"]
    assert [r.gid for r in HistoryStore(path).records()] == ["a", "c"]
    assert store.clear() == 2
    assert HistoryStore(path).records() == []


def test_bounded_keeps_the_newest(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.json", limit=3)
    store.merge([record(f"g{i}", float(i)) for i in range(5)])
    assert [r.gid for r in store.records()] == ["g2", "g3", "g4"]
    store.add(record("late", 10.0))
    assert [r.gid for r in HistoryStore(tmp_path / "h.json", limit=3).records()] == [
        "g3",
        "g4",
        "late",
    ]


def test_merge_replaces_by_gid(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.json")
    store.add(record("a", 1.0, "error"))
    store.add(record("a", 2.0, "complete"))
    assert len(store) == 1
    assert store.get("a") is not None and store.get("a").status == "complete"  # type: ignore[union-attr]


def test_a_broken_file_is_set_aside_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text("{not json")
    store = HistoryStore(path)
    assert store.records() == []
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("history.json.broken-")]
    assert len(kept) == 1 and kept[0].read_text() == "{not json"
    store.add(record("a"))
    assert [r.gid for r in HistoryStore(path).records()] == ["a"]


def test_a_bad_record_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    good = record("a").to_json()
    path.write_text(json.dumps({"version": 1, "records": [good, {"name": "no gid"}, 42]}))
    assert [r.gid for r in HistoryStore(path).records()] == ["a"]


def test_downloads_are_cached_until_a_change(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.json")
    store.add(record("a"))
    first = store.downloads()
    assert first[0] is store.downloads()[0]  # same objects: views skip them by identity
    row = first[0]
    assert isinstance(row, HistoryDownload) and row.from_history
    assert row.status == "complete" and row.completed_length == row.total_length == 100
    assert row.files[0].uris == ("http://example.com/a.bin",)
    store.add(record("b"))
    assert store.downloads()[0] is not row


def test_from_download_keeps_what_retry_and_delete_need() -> None:
    info = DownloadInfo(
        gid="g",
        status="error",
        total_length=10,
        name="x.bin",
        dir="/dl",
        error_code=3,
        error_message="Resource not found",
        files=[FileInfo(1, "/dl/x.bin", 10, 0, True, ("http://a/x.bin", "http://b/x.bin"))],
    )
    rec = HistoryRecord.from_download(info, finished_at=5.0)
    assert rec.paths == ["/dl/x.bin"]
    assert rec.uris == ["http://a/x.bin", "http://b/x.bin"]
    assert rec.error_message == "Resource not found" and rec.finished_at == 5.0
    assert HistoryRecord.from_json(rec.to_json()) == rec


@pytest.mark.parametrize(
    ("status", "code", "extra", "kept"),
    [
        ("complete", 0, {}, True),
        ("error", 3, {}, True),
        ("removed", 31, {}, False),  # removed by the user
        ("removed", 5, {}, True),  # removed with a real error
        ("complete", 0, {"followed_by": ("next",)}, False),  # a magnet's metadata step
    ],
)
def test_should_record(status: str, code: int, extra: dict, kept: bool) -> None:
    info = DownloadInfo(gid="g", status=status, error_code=code, **extra)
    assert should_record(info) is kept


def test_a_history_that_cannot_be_read_is_set_aside_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.mkdir()  # a read fails with an OSError that is not "no such file"
    (path / "inside").write_text("the user's")
    store = HistoryStore(path)
    assert store.records() == []
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("history.json.broken-")]
    assert len(kept) == 1 and (kept[0] / "inside").read_text() == "the user's"
    store.add(record("a"))
    assert [r.gid for r in HistoryStore(path).records()] == ["a"]


def test_a_history_that_can_be_neither_read_nor_moved_is_never_saved_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.json"
    HistoryStore(path).add(record("old"))
    before = path.read_bytes()

    def held(*_: object) -> bytes:
        raise PermissionError("held by another program")

    # Another program holds the file past the read's wait: neither read nor rename works.
    monkeypatch.setattr("aria2_core.history.read_bytes", held)
    monkeypatch.setattr("aria2_core.atomic_file.os.replace", held)
    store = HistoryStore(path)
    monkeypatch.undo()
    store.add(record("new"))  # kept in memory for this run; the unread file is not replaced
    assert [r.gid for r in store.records()] == ["new"]
    assert path.read_bytes() == before
    assert "not saved" in caplog.text
    assert [r.gid for r in HistoryStore(path).records()] == ["old"]

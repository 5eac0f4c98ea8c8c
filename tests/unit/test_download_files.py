"""Deleting a download's files touches exactly its files, control files and empty folders."""

from __future__ import annotations

from pathlib import Path

from aria2_core.download_files import (
    containing_folder,
    delete_download_files,
    open_target,
    planned_deletions,
    source_links,
)
from aria2_core.history import HistoryFile, HistoryRecord
from aria2_core.models import DownloadInfo, FileInfo


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def http_download(folder: Path, name: str = "a.bin") -> DownloadInfo:
    return DownloadInfo(
        gid="g1",
        status="complete",
        name=name,
        dir=str(folder),
        files=[FileInfo(1, str(folder / name), 1, 1, True, ("http://h/a.bin",))],
    )


def test_deletes_the_file_and_its_control_file_only(tmp_path: Path) -> None:
    folder = tmp_path / "dl"
    file, control = touch(folder / "a.bin"), touch(folder / "a.bin.aria2")
    neighbour = touch(folder / "b.bin")
    deleted = delete_download_files(http_download(folder))
    assert set(deleted) == {file, control}
    assert not file.exists() and not control.exists()
    assert neighbour.exists() and folder.is_dir()


def test_already_gone_is_fine(tmp_path: Path) -> None:
    assert delete_download_files(http_download(tmp_path / "dl")) == []


def test_never_outside_the_download_folder(tmp_path: Path) -> None:
    folder = tmp_path / "dl"
    outside = touch(tmp_path / "precious.txt")
    info = DownloadInfo(
        gid="g",
        status="error",
        name="x",
        dir=str(folder),
        files=[FileInfo(1, str(folder / ".." / "precious.txt"), 1, 0, True)],
    )
    assert planned_deletions(info) == []
    delete_download_files(info)
    assert outside.exists()


def test_multi_file_torrent_removes_its_folder_and_control_file(tmp_path: Path) -> None:
    folder = tmp_path / "dl"
    a = touch(folder / "Show" / "a.mp4")
    b = touch(folder / "Show" / "sub" / "b.srt")
    control = touch(folder / "Show.aria2")
    other = touch(folder / "other.bin")
    info = DownloadInfo(
        gid="t",
        status="active",
        name="Show",
        dir=str(folder),
        is_torrent=True,
        info_hash="ab" * 20,
        files=[FileInfo(1, str(a), 1, 0, True), FileInfo(2, str(b), 1, 0, False)],
    )
    delete_download_files(info)
    assert not control.exists() and not (folder / "Show").exists()
    assert other.exists() and folder.is_dir()


def test_an_http_name_does_not_delete_a_torrent_style_control_file(tmp_path: Path) -> None:
    folder = tmp_path / "dl"
    touch(folder / "sub" / "x.bin")
    foreign = touch(folder / "x.bin.aria2")  # belongs to another download
    info = DownloadInfo(
        gid="h",
        status="complete",
        name="x.bin",
        dir=str(folder),
        files=[FileInfo(1, str(folder / "sub" / "x.bin"), 1, 1, True)],
    )
    delete_download_files(info)
    assert foreign.exists()


def test_history_records_work_too(tmp_path: Path) -> None:
    folder = tmp_path / "dl"
    file = touch(folder / "r.bin")
    rec = HistoryRecord("r", "r.bin", "complete", 1, str(folder), (HistoryFile(str(file)),))
    assert delete_download_files(rec) == [file]


def test_open_targets_and_links(tmp_path: Path) -> None:
    folder = tmp_path / "dl"
    single = http_download(folder)
    assert open_target(single) == folder / "a.bin"
    assert containing_folder(single) == folder
    assert source_links(single) == ["http://h/a.bin"]
    torrent = DownloadInfo(
        gid="t",
        name="Show",
        dir=str(folder),
        info_hash="ab" * 20,
        is_torrent=True,
        files=[
            FileInfo(1, str(folder / "Show" / "a"), 1, 0, True),
            FileInfo(2, str(folder / "Show" / "b"), 1, 0, True),
        ],
    )
    assert open_target(torrent) == folder / "Show"
    assert containing_folder(torrent) == folder
    assert source_links(torrent) == ["magnet:?xt=urn:btih:" + "ab" * 20]
    assert open_target(DownloadInfo(gid="w")) is None

"""The pure parts of the per-task operations: which RPC calls they build."""

from __future__ import annotations

import pytest

from aria2_core.history import HistoryFile, HistoryRecord
from aria2_core.models import STATUS_KEYS, DownloadInfo, FileInfo
from aria2_core.retry import retry_calls
from aria2_core.task_ops import details_from_record, list_calls, select_file_option


def test_one_refresh_is_three_filtered_calls() -> None:
    calls = list_calls(50)
    assert [method for method, _ in calls] == [
        "aria2.tellActive",
        "aria2.tellWaiting",
        "aria2.tellStopped",
    ]
    assert calls[0][1] == [list(STATUS_KEYS)]
    assert calls[1][1] == [0, 50, list(STATUS_KEYS)]


def test_retry_keeps_folder_and_name() -> None:
    info = DownloadInfo(
        gid="g",
        status="error",
        dir="/dl",
        files=[FileInfo(1, "/dl/sub/x.bin", 0, 0, True, ("http://a/x", "http://b/x"))],
    )
    assert retry_calls(info) == [
        ("aria2.addUri", [["http://a/x", "http://b/x"], {"dir": "/dl", "out": "sub/x.bin"}])
    ]


def test_retry_of_a_file_whose_name_is_unknown_lets_aria2_choose() -> None:
    rec = HistoryRecord("g", "x", "error", dir="/dl", files=(HistoryFile("", ("http://a/x",)),))
    assert retry_calls(rec) == [("aria2.addUri", [["http://a/x"], {"dir": "/dl"}])]


def test_retry_of_a_torrent_is_its_magnet() -> None:
    info = DownloadInfo(gid="t", status="error", dir="/dl", info_hash="ab" * 20, is_torrent=True)
    assert retry_calls(info) == [
        ("aria2.addUri", [["magnet:?xt=urn:btih:" + "ab" * 20], {"dir": "/dl"}])
    ]


def test_retry_without_links_is_nothing() -> None:
    assert retry_calls(DownloadInfo(gid="x", status="error")) == []


def test_select_file_option() -> None:
    assert select_file_option([3, 1, 3]) == "1,3"
    with pytest.raises(ValueError):
        select_file_option([])


def test_details_from_a_history_record() -> None:
    rec = HistoryRecord(
        "g",
        "x",
        "error",
        files=(HistoryFile("/dl/x", ("http://a/x",), 5),),
        error_message="Resource not found",
    )
    details = details_from_record(rec)
    assert details.from_history and details.error_message == "Resource not found"
    assert details.uris == [("http://a/x", "")]
    assert [f.path for f in details.files] == ["/dl/x"]


def test_retry_with_an_origin_re_adds_the_same_torrent_bytes_and_options() -> None:
    from aria2_core.ledger import TORRENT, URI, Origin

    failed = DownloadInfo(gid="g", status="error", dir="/dl", info_hash="a" * 40)
    origin = Origin("g", TORRENT, file="x.torrent", options={"dir": "/mine", "select-file": "2"})
    assert retry_calls(failed, origin, b"d4:infoe") == [
        ("aria2.addTorrent", ["ZDQ6aW5mb2U=", [], {"dir": "/mine", "select-file": "2"}])
    ]
    http = DownloadInfo(
        gid="h",
        status="error",
        dir="/dl",
        files=[FileInfo(1, "/dl/sub/f.bin", 0, 0, True, ("http://a/f",))],
    )
    with_headers = Origin(
        "h", URI, uris=("http://a/f",), options={"dir": "/dl", "header": ["A: b"]}
    )
    assert retry_calls(http, with_headers) == [
        ("aria2.addUri", [["http://a/f"], {"dir": "/dl", "header": ["A: b"], "out": "sub/f.bin"}])
    ]


def test_retry_without_the_kept_copy_falls_back_to_the_links() -> None:
    from aria2_core.ledger import TORRENT, Origin

    failed = DownloadInfo(gid="g", status="error", dir="/dl", info_hash="a" * 40)
    origin = Origin("g", TORRENT, file="", options={"dir": "/dl"})
    assert retry_calls(failed, origin, None) == [
        ("aria2.addUri", [["magnet:?xt=urn:btih:" + "a" * 40], {"dir": "/dl"}])
    ]

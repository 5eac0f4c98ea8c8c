"""Typed records from aria2's raw dicts (shapes copied from aria2 1.37 answers)."""

from __future__ import annotations

import pytest

from aria2_core.models import STATUS_KEYS, DownloadInfo, FileInfo, GlobalStat

HTTP_ACTIVE = {
    "gid": "2089b05ecca3d829",
    "status": "active",
    "totalLength": "1048576",
    "completedLength": "262144",
    "downloadSpeed": "131072",
    "uploadSpeed": "0",
    "connections": "2",
    "dir": "/home/me/Downloads",
    "files": [
        {
            "index": "1",
            "path": "/home/me/Downloads/ubuntu.iso",
            "length": "1048576",
            "completedLength": "262144",
            "selected": "true",
            "uris": [
                {"uri": "http://example.com/ubuntu.iso", "status": "used"},
                {"uri": "http://example.com/ubuntu.iso", "status": "waiting"},
                {"uri": "http://mirror.example.org/ubuntu.iso", "status": "waiting"},
            ],
        }
    ],
}

TORRENT = {
    "gid": "aaaabbbbccccdddd",
    "status": "paused",
    "totalLength": "300",
    "completedLength": "0",
    "downloadSpeed": "0",
    "uploadSpeed": "10",
    "connections": "0",
    "numSeeders": "3",
    "infoHash": "0123456789abcdef0123456789abcdef01234567",
    "bittorrent": {"info": {"name": "Big Buck Bunny"}, "mode": "multi"},
    "dir": "/dl",
    "files": [
        {
            "index": "1",
            "path": "/dl/Big Buck Bunny/a.mp4",
            "length": "200",
            "completedLength": "0",
            "selected": "true",
            "uris": [],
        },
        {
            "index": "2",
            "path": "/dl/Big Buck Bunny/b.srt",
            "length": "100",
            "completedLength": "0",
            "selected": "false",
            "uris": [],
        },
    ],
}

MAGNET_METADATA = {
    "gid": "1111222233334444",
    "status": "active",
    "totalLength": "0",
    "completedLength": "0",
    "infoHash": "0123456789abcdef0123456789abcdef01234567",
    "bittorrent": {"announceList": []},
    "followedBy": ["5555666677778888"],
    "files": [
        {
            "index": "1",
            "path": "[METADATA]0123456789abcdef0123456789abcdef01234567",
            "length": "0",
            "completedLength": "0",
            "selected": "true",
            "uris": [],
        }
    ],
}


def test_http_download_fields() -> None:
    info = DownloadInfo.from_status(HTTP_ACTIVE)
    assert info.gid == "2089b05ecca3d829"
    assert info.status == "active"
    assert (info.total_length, info.completed_length) == (1048576, 262144)
    assert (info.download_speed, info.upload_speed, info.connections) == (131072, 0, 2)
    assert info.name == "ubuntu.iso"
    assert info.dir == "/home/me/Downloads"
    assert info.is_torrent is False
    assert info.info_hash is None
    assert info.error_code is None
    assert info.error_message == ""
    assert info.progress == 0.25
    assert info.eta_seconds == 6
    assert info.files == [
        FileInfo(
            index=1,
            path="/home/me/Downloads/ubuntu.iso",
            length=1048576,
            completed_length=262144,
            selected=True,
            uris=("http://example.com/ubuntu.iso", "http://mirror.example.org/ubuntu.iso"),
        )
    ]


def test_torrent_fields() -> None:
    info = DownloadInfo.from_status(TORRENT)
    assert info.is_torrent is True
    assert info.name == "Big Buck Bunny"
    assert info.info_hash == "0123456789abcdef0123456789abcdef01234567"
    assert info.num_seeders == 3
    assert info.upload_speed == 10
    assert [f.selected for f in info.files] == [True, False]
    assert info.eta_seconds is None  # paused: no speed
    assert info.progress == 0.0


def test_magnet_metadata_download_links_to_its_follower() -> None:
    info = DownloadInfo.from_status(MAGNET_METADATA)
    assert info.is_torrent is True
    assert info.followed_by == ("5555666677778888",)
    assert info.following is None
    assert info.is_metadata is True
    assert info.name == "0123456789abcdef0123456789abcdef01234567"
    assert info.progress == 0.0
    assert info.eta_seconds is None


def test_magnet_metadata_name_uses_the_display_name() -> None:
    data = dict(MAGNET_METADATA, files=[{"index": "1", "path": "[METADATA]Some Show", "uris": []}])
    assert DownloadInfo.from_status(data).name == "Some Show"
    assert DownloadInfo.from_status(TORRENT).is_metadata is False


def test_name_falls_back_to_the_uri_then_the_gid() -> None:
    before_response = {
        "gid": "g1",
        "files": [
            {
                "index": "1",
                "path": "",
                "uris": [{"uri": "http://example.com/dir/My%20File.zip?token=1#x"}],
            }
        ],
    }
    assert DownloadInfo.from_status(before_response).name == "My File.zip"
    bare_host = {"gid": "g2", "files": [{"path": "", "uris": [{"uri": "http://example.com/"}]}]}
    assert DownloadInfo.from_status(bare_host).name == "g2"
    assert DownloadInfo.from_status({"gid": "g3"}).name == "g3"


def test_torrent_without_info_name_uses_its_first_file() -> None:
    data = dict(TORRENT, bittorrent={"mode": "single"})
    assert DownloadInfo.from_status(data).name == "a.mp4"


def test_error_fields() -> None:
    info = DownloadInfo.from_status(
        {
            "gid": "e1",
            "status": "error",
            "errorCode": "3",
            "errorMessage": "Resource not found",
            "totalLength": "0",
            "completedLength": "0",
        }
    )
    assert info.error_code == 3
    assert info.error_message == "Resource not found"
    assert info.is_finished is True
    assert info.eta_seconds is None


def test_complete_download() -> None:
    info = DownloadInfo.from_status(
        {"gid": "c1", "status": "complete", "errorCode": "0", "totalLength": "0"}
    )
    assert info.error_code == 0
    assert info.progress == 1.0  # a finished empty file is done, not at 0 %
    assert info.eta_seconds == 0


@pytest.mark.parametrize(
    ("total", "done", "speed", "eta"),
    [
        ("100", "0", "30", 4),
        ("100", "99", "1000", 1),
        ("100", "100", "5", 0),
        ("0", "0", "5", None),
    ],
)
def test_eta_rounds_up(total: str, done: str, speed: str, eta: int | None) -> None:
    data = {
        "gid": "x",
        "status": "active",
        "totalLength": total,
        "completedLength": done,
        "downloadSpeed": speed,
    }
    assert DownloadInfo.from_status(data).eta_seconds == eta


def test_filtered_and_garbled_dicts_do_not_crash() -> None:
    info = DownloadInfo.from_status({"gid": "k", "totalLength": "", "connections": None})
    assert info.status == "waiting"
    assert (info.total_length, info.connections) == (0, 0)
    assert info.files == []
    assert DownloadInfo.from_status({"gid": "k", "completedLength": "oops"}).completed_length == 0


def test_progress_never_exceeds_one() -> None:
    data = {"gid": "x", "totalLength": "10", "completedLength": "11"}
    assert DownloadInfo.from_status(data).progress == 1.0


def test_global_stat() -> None:
    stat = GlobalStat.from_dict(
        {
            "downloadSpeed": "2048",
            "uploadSpeed": "16",
            "numActive": "2",
            "numWaiting": "5",
            "numStopped": "7",
            "numStoppedTotal": "9",
        }
    )
    assert stat == GlobalStat(2048, 16, 2, 5, 7)
    assert GlobalStat.from_dict({}) == GlobalStat()


def test_status_keys_cover_every_field_the_model_reads() -> None:
    for key in (
        "gid",
        "status",
        "totalLength",
        "completedLength",
        "downloadSpeed",
        "uploadSpeed",
        "connections",
        "numSeeders",
        "dir",
        "errorCode",
        "errorMessage",
        "infoHash",
        "bittorrent",
        "files",
    ):
        assert key in STATUS_KEYS
    assert len(set(STATUS_KEYS)) == len(STATUS_KEYS)
    assert isinstance(STATUS_KEYS, tuple)

"""``file:`` URLs to paths, both flavours, and a .torrent dropped from a network share.

The conversion is pure, so the Windows flavour runs on every platform. On
Windows a ``file:`` URL with a host names a UNC path (Explorer and
``QUrl.fromLocalFile`` write ``\\\\nas\\share\\a.torrent`` as
``file://nas/share/a.torrent``); elsewhere another host is unreachable.
The last test drops a real file from a real share, on Windows only.
"""

from __future__ import annotations

import ntpath
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from aria2_core import links
from aria2_core.drop_payload import items_from_payload
from aria2_core.links import Link, LinkKind, file_url_to_path, parse_link, parse_many
from support.platforms import only_on

WINDOWS_CASES = [
    ("file:///C:/Users/me/a.torrent", r"C:\Users\me\a.torrent"),
    ("file://localhost/C:/Users/me/a.torrent", r"C:\Users\me\a.torrent"),
    ("file://LOCALHOST/C:/a%20b.torrent", r"C:\a b.torrent"),
    ("file:///C|/a.torrent", r"C:\a.torrent"),
    ("file://C:/Users/me/a.torrent", r"C:\Users\me\a.torrent"),  # drive as the host
    ("file://nas/share/a.torrent", r"\\nas\share\a.torrent"),
    ("file://NAS.example.lan/Share/dir%20x/a.torrent", r"\\NAS.example.lan\Share\dir x\a.torrent"),
    ("file://192.168.1.5/share/a.torrent", r"\\192.168.1.5\share\a.torrent"),
    ("file:////nas/share/a.torrent", r"\\nas\share\a.torrent"),  # the older spelling
    ("file://nas/share/%E4%B8%AD.torrent", "\\\\nas\\share\\\u4e2d.torrent"),
]

POSIX_CASES = [
    ("file:///home/me/a%20b.torrent", "/home/me/a b.torrent"),
    ("file://localhost/home/me/a.torrent", "/home/me/a.torrent"),
    ("file:///home/me/%E4%B8%AD.torrent", "/home/me/\u4e2d.torrent"),
    ("file://nas/share/a.torrent", None),
    ("file://nas/", None),
]


@pytest.mark.parametrize(("url", "path"), WINDOWS_CASES)
def test_windows_flavour_maps_hosts_to_unc_paths(url: str, path: str) -> None:
    assert file_url_to_path(url, windows=True) == path


@pytest.mark.parametrize(("url", "path"), POSIX_CASES)
def test_posix_flavour_keeps_other_hosts_out(url: str, path: str | None) -> None:
    assert file_url_to_path(url, windows=False) == path


@pytest.mark.parametrize(
    "url",
    [
        "file://user@nas/share/a.torrent",  # user info is no share
        "file://nas:445/share/a.torrent",  # nor is a port
        "file://[::1]/share/a.torrent",
        "file://-bad/share/a.torrent",
    ],
)
def test_windows_flavour_rejects_authorities_that_are_no_server_name(url: str) -> None:
    assert file_url_to_path(url, windows=True) is None


def test_a_windows_unc_result_is_an_absolute_windows_path() -> None:
    for url, _ in WINDOWS_CASES:
        result = file_url_to_path(url, windows=True)
        assert result is not None and ntpath.isabs(result), url


@only_on("posix", "file://host refused (Windows opens it as a UNC share)")
def test_elsewhere_a_file_url_on_another_host_is_rejected_by_name(tmp_path: Path) -> None:
    url = f"file://otherhost{tmp_path}/a.torrent"
    with pytest.raises(links.LinkError) as info:
        parse_link(url)
    assert info.value.reason == links.REASON_FILE_HOST
    # A drop keeps the URL as it came, so the message names what was dropped.
    assert items_from_payload(f"{url}\r\n") == [url]


# -- a real share, on Windows ---------------------------------------------------------
@pytest.fixture
def unc_folder(tmp_path: Path) -> Iterator[Path]:
    r"""A writable folder reached through a UNC path.

    ``ARIA_TRAY_TEST_UNC_SHARE`` names one (the Wine test bed maps
    ``\\aria-tray-test\share`` with dosdevices\unc); otherwise the
    ``\\localhost\C$`` administrative share of ``tmp_path``, which Windows
    runners have and Wine does not.
    """
    share = os.environ.get("ARIA_TRAY_TEST_UNC_SHARE")
    if share:
        folder = Path(share) / tmp_path.name
    else:
        drive, rest = ntpath.splitdrive(str(tmp_path))
        folder = Path(rf"\\localhost\{drive[0]}$" + rest)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        pytest.skip(f"no reachable UNC share ({folder}: {exc}); set ARIA_TRAY_TEST_UNC_SHARE")
    yield folder
    for child in folder.iterdir():
        child.unlink()
    if share:
        folder.rmdir()


@pytest.mark.windows
@only_on("win32", "UNC paths")
def test_a_torrent_dropped_from_a_network_share_is_added(unc_folder: Path) -> None:
    from PySide6.QtCore import QMimeData, QUrl

    from desktop.drop_handling import mime_items

    torrent = unc_folder / "from share.torrent"
    torrent.write_bytes(b"d4:infod4:name1:xee")
    assert str(torrent).startswith("\\\\")
    url = QUrl.fromLocalFile(str(torrent))
    assert url.host()  # what Explorer drops: file://server/share/...
    mime = QMimeData()
    mime.setUrls([url])

    result = parse_many(mime_items(mime))

    assert result.errors == []
    assert result.links == [Link(LinkKind.TORRENT, str(torrent))]
    # Typed or pasted, the UNC path itself works as well.
    assert parse_link(str(torrent)) == Link(LinkKind.TORRENT, str(torrent))

"""Moving aria2's own torrent copies out of the user's folder, against a real aria2c.

Before this release aria2 wrote ``<sha1>.torrent`` into the download folder
for every torrent added over RPC, and its session names that file. The
first start after the upgrade moves each such copy into the app home and
rewrites the entry; the download comes back as it was.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from aria2_core.ledger import DownloadLedger
from aria2_core.paths import AppPaths
from aria2_core.session_restore import restore_into_session
from aria2_core.session_scan import restore_may_act
from support.aria2_daemon import Aria2Daemon
from support.fixture_files import multi_file_torrent


def test_an_old_copy_in_the_download_folder_moves_into_the_app_home(tmp_path: Path) -> None:
    paths = AppPaths.for_home(tmp_path / "home")
    paths.ensure()
    downloads = tmp_path / "dl"
    downloads.mkdir()
    torrent = multi_file_torrent(tmp_path / "user" / "pair.torrent", "pair", [1000, 2000])
    with Aria2Daemon(paths.engine_dir).start() as old:  # aria2's default: it keeps a copy
        gid = old.client.add_torrent(torrent, options={"dir": str(downloads), "pause": "true"})
        old.client.save_session()
    sha1 = hashlib.sha1(torrent.read_bytes()).hexdigest()
    assert (downloads / f"{sha1}.torrent").is_file()
    mine = downloads / "mine.torrent"  # the user's own file, named in no entry we own
    mine.write_bytes(torrent.read_bytes())
    # No ledger yet (an older release kept none): the start's scan still sees the copy.
    assert not paths.ledger_file.exists() and restore_may_act(paths)

    restore_into_session(paths)

    assert sorted(p.name for p in downloads.iterdir()) == ["mine.torrent"]
    copy = paths.metadata_dir / f"{sha1}.torrent"
    assert copy.read_bytes() == torrent.read_bytes()
    session = paths.session_file.read_text()
    assert session.startswith(f"{copy}\n gid={gid}\n")
    origin = DownloadLedger(paths.ledger_file, paths.metadata_dir).get(gid)
    assert origin is not None and origin.paused and origin.options["dir"] == str(downloads)
    paths.engine_dir.joinpath("aria2.conf").unlink()
    with Aria2Daemon(paths.engine_dir, ["--rpc-save-upload-metadata=false"]).start() as new:
        status = new.client.tell_status(gid, ["status", "dir", "bittorrent"])
        new.client.save_session()
    assert status["status"] == "paused" and status["dir"] == str(downloads)
    assert status["bittorrent"]["info"]["name"] == "pair"
    assert str(copy) in paths.session_file.read_text()  # aria2 now keeps it itself

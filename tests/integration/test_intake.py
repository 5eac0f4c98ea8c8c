"""Handing journaled links to a real aria2c: batches, bad lines, replays."""

from __future__ import annotations

import time
from pathlib import Path

from aria2_core.intake import hand_over, known_uris
from aria2_core.journal import JournalEntry
from support.aria2_daemon import Aria2Daemon
from support.fixture_files import multi_file_torrent

CLOSED = "http://127.0.0.1:9"  # nothing listens: downloads stay harmlessly failed/paused


def _entry(*items: str, ts: float | None = None) -> JournalEntry:
    return JournalEntry(
        id=f"e{time.monotonic_ns()}",
        items=tuple(items),
        options={"pause": "true"},
        source="test",
        ts=time.time() if ts is None else ts,
    )


def test_good_links_go_in_and_bad_ones_are_reported(aria2_daemon: Aria2Daemon) -> None:
    entry = _entry(f"{CLOSED}/a.bin", "htp:/nope", f"{CLOSED}/b.bin", "/no/such/file.torrent")
    [outcome] = hand_over(aria2_daemon.client, [entry], replayed_before=0.0)
    assert len(outcome.gids) == 2
    assert len(outcome.problems) == 2
    assert any("htp:/nope" in p for p in outcome.problems)
    assert any("file.torrent" in p for p in outcome.problems)
    assert {f"{CLOSED}/a.bin", f"{CLOSED}/b.bin"} <= known_uris(aria2_daemon.client)
    # hand_over saved the session, so the paused tasks survive a crash of aria2c
    session = aria2_daemon.session_file.read_text()
    assert f"{CLOSED}/a.bin" in session and f"{CLOSED}/b.bin" in session


def test_replayed_entry_skips_what_aria2_already_has(aria2_daemon: Aria2Daemon) -> None:
    client = aria2_daemon.client
    first = _entry(f"{CLOSED}/dup.bin")
    hand_over(client, [first], replayed_before=0.0)
    # The app died before marking it done; at the next start it is a replay.
    replay = _entry(f"{CLOSED}/dup.bin", f"{CLOSED}/new.bin", ts=first.ts)
    [outcome] = hand_over(client, [replay], replayed_before=time.time() + 1)
    assert outcome.already_there == 1
    assert len(outcome.gids) == 1
    waiting = client.tell_waiting(0, 100, ["files"])
    uris = [u["uri"] for t in waiting for f in t["files"] for u in f["uris"]]
    assert uris.count(f"{CLOSED}/dup.bin") == 1


def test_fresh_entry_is_not_deduplicated(aria2_daemon: Aria2Daemon) -> None:
    """A user adding the same URL again on purpose gets a second task."""
    client = aria2_daemon.client
    hand_over(client, [_entry(f"{CLOSED}/again.bin")], replayed_before=0.0)
    [outcome] = hand_over(client, [_entry(f"{CLOSED}/again.bin")], replayed_before=0.0)
    assert len(outcome.gids) == 1 and outcome.already_there == 0


def test_vanished_torrent_fails_alone(aria2_daemon: Aria2Daemon, tmp_path: Path) -> None:
    torrent = tmp_path / "gone.torrent"
    torrent.write_bytes(b"d4:infod4:name1:xee")
    entry = _entry(str(torrent), f"{CLOSED}/ok.bin")
    torrent.unlink()  # after the link was accepted, before aria2 reads it
    [outcome] = hand_over(aria2_daemon.client, [entry], replayed_before=0.0)
    assert len(outcome.gids) == 1
    assert len(outcome.problems) == 1


def test_a_torrent_added_paused_is_restored_paused_from_the_private_copy(tmp_path: Path) -> None:
    """aria2 cannot save a torrent added from bytes; the ledger's entry brings it back.

    Right after the hand-over (no refresh has seen it yet), as after a crash,
    and the user's own .torrent deleted: the next aria2c has it, paused, in
    its folder, under its gid.
    """
    from aria2_core.ledger import DownloadLedger
    from aria2_core.session_restore import restore_entries
    from support.fixture_files import multi_file_torrent

    torrent = multi_file_torrent(tmp_path / "user" / "pair.torrent", "pair", [1000, 2000])
    ledger = DownloadLedger(tmp_path / "downloads.json", tmp_path / "metadata")
    args = ["--rpc-save-upload-metadata=false"]  # as the app runs it
    with Aria2Daemon(tmp_path / "a", args).start() as first:
        [outcome] = hand_over(
            first.client, [_entry(str(torrent))], 0.0, ledger, str(tmp_path / "dl")
        )
        [gid] = outcome.gids
        first.client.save_session()
    torrent.unlink()
    session = first.session_file.read_text()
    assert gid not in session  # aria2 did not keep it
    text = restore_entries(DownloadLedger(ledger.path, ledger.metadata_dir), session)
    first.session_file.write_text(session + text)
    first.conf_file.unlink()
    with Aria2Daemon(tmp_path / "a", args).start() as second:
        status = second.client.tell_status(gid, ["status", "dir", "bittorrent"])
    assert status["status"] == "paused" and status["dir"] == str(tmp_path / "dl")
    assert status["bittorrent"]["info"]["name"] == "pair"


def test_retried_entry_skips_what_aria2_took_before_the_timeout(aria2_daemon: Aria2Daemon) -> None:
    """issue 8, item 5: a drain that timed out may have been half done."""
    client = aria2_daemon.client
    magnet = "magnet:?xt=urn:btih:" + "c" * 40 + "&dn=x"
    entry = _entry(f"{CLOSED}/retry.bin", magnet)
    hand_over(client, [entry], replayed_before=0.0)  # aria2 took it; the caller never heard
    [outcome] = hand_over(client, [entry], replayed_before=0.0, retried={entry.id})
    assert outcome.already_there == 2 and outcome.gids == []
    waiting = client.tell_waiting(0, 100, ["infoHash", "files"])
    assert sum(t.get("infoHash") == "c" * 40 for t in waiting) == 1


def test_retried_torrent_is_matched_by_its_info_hash(
    aria2_daemon: Aria2Daemon, tmp_path: Path
) -> None:
    torrent = multi_file_torrent(tmp_path / "t.torrent", "retried", [4096])
    entry = _entry(str(torrent))
    hand_over(aria2_daemon.client, [entry], replayed_before=0.0)
    [outcome] = hand_over(aria2_daemon.client, [entry], replayed_before=0.0, retried={entry.id})
    assert outcome.already_there == 1 and outcome.gids == []

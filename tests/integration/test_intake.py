"""Handing journaled links to a real aria2c: batches, bad lines, replays."""

from __future__ import annotations

import time
from pathlib import Path

from aria2_core.intake import hand_over, known_uris
from aria2_core.journal import JournalEntry
from support.aria2_daemon import Aria2Daemon

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

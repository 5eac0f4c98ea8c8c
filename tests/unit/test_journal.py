"""The link journal keeps every accepted link until it is marked done."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
from pathlib import Path

import pytest

from aria2_core.journal import JournalEntry, LinkJournal
from support.platforms import POSIX_MODES, only_on


@pytest.fixture
def journal(tmp_path: Path) -> LinkJournal:
    return LinkJournal(tmp_path / "journal.jsonl")


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "aria_tray.journal" and r.levelno == logging.WARNING
    ]


def test_empty_or_missing_journal_has_nothing_pending(journal: LinkJournal) -> None:
    assert journal.pending() == []
    assert journal.compact() == 0
    assert not journal.path.exists()


def test_round_trip(journal: LinkJournal) -> None:
    first = journal.append(["https://a.example/1"], {"dir": "/dl"}, source="ipc")
    second = journal.append(["magnet:?xt=urn:btih:x", "/tmp/f.torrent"])
    pending = journal.pending()
    assert [e.id for e in pending] == [first, second]
    assert pending[0].items == ("https://a.example/1",)
    assert pending[0].options == {"dir": "/dl"}
    assert pending[0].source == "ipc"
    assert pending[0].ts > 0
    assert pending[1].items == ("magnet:?xt=urn:btih:x", "/tmp/f.torrent")

    journal.mark_done(first)
    assert [e.id for e in journal.pending()] == [second]
    journal.mark_done("no-such-id")  # harmless
    journal.mark_done(second)
    assert journal.pending() == []


def test_entries_are_on_disk_for_a_fresh_reader(journal: LinkJournal) -> None:
    """append() fsyncs before returning; a new object (a new process) sees it."""
    entry_id = journal.append(["https://a.example/x"])
    fresh = LinkJournal(journal.path)
    assert [e.id for e in fresh.pending()] == [entry_id]
    lines = journal.path.read_bytes().splitlines()
    assert json.loads(lines[0])["items"] == ["https://a.example/x"]


@only_on("posix", POSIX_MODES)
def test_file_is_private(journal: LinkJournal) -> None:
    journal.append(["https://a.example/x"])
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    journal.compact()
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600


def test_torn_last_line_is_skipped_and_next_append_survives(
    journal: LinkJournal, caplog: pytest.LogCaptureFixture
) -> None:
    kept = journal.append(["https://a.example/1"])
    with open(journal.path, "ab") as handle:  # a crash in the middle of a write
        handle.write(b'{"id": "torn", "items": ["https://a.exa')
    caplog.set_level(logging.WARNING, logger="aria_tray.journal")
    assert [e.id for e in journal.pending()] == [kept]
    assert any("torn last line" in m for m in warnings_of(caplog))

    # The next record must not be glued onto the torn one.
    after = journal.append(["https://a.example/2"])
    assert [e.id for e in LinkJournal(journal.path).pending()] == [kept, after]


def test_garbage_lines_are_skipped_with_a_warning(
    journal: LinkJournal, caplog: pytest.LogCaptureFixture
) -> None:
    first = journal.append(["https://a.example/1"])
    with open(journal.path, "ab") as handle:
        handle.write(b"\xff\xfe not utf-8\n")
        handle.write(b"not json at all\n")
        handle.write(b"[1, 2, 3]\n")
        handle.write(b'{"id": "x", "items": []}\n')  # no items
        handle.write(b'{"id": "y", "items": [1]}\n')  # not strings
        handle.write(b'{"done": 5}\n')
        handle.write(b"\n\n")
    second = journal.append(["https://a.example/2"])
    caplog.set_level(logging.WARNING, logger="aria_tray.journal")
    assert [e.id for e in journal.pending()] == [first, second]
    assert len(warnings_of(caplog)) == 6


def test_compact_keeps_only_pending_in_order(journal: LinkJournal) -> None:
    ids = [journal.append([f"https://a.example/{n}"], {"n": str(n)}) for n in range(5)]
    for done in ids[::2]:
        journal.mark_done(done)
    with open(journal.path, "ab") as handle:
        handle.write(b"garbage\n")
    before = journal.pending()

    assert journal.compact() == 2
    lines = journal.path.read_bytes().splitlines()
    assert len(lines) == 2
    after = LinkJournal(journal.path).pending()
    assert after == before
    assert [e.id for e in after] == [ids[1], ids[3]]
    assert isinstance(after[0], JournalEntry)
    # No temp file is left behind next to the journal.
    assert sorted(p.name for p in journal.path.parent.iterdir()) == ["journal.jsonl"]

    # The journal stays appendable after the rename.
    late = journal.append(["https://a.example/late"])
    assert [e.id for e in journal.pending()] == [ids[1], ids[3], late]


def test_compact_of_all_done_leaves_empty_file(journal: LinkJournal) -> None:
    journal.mark_done(journal.append(["https://a.example/1"]))
    assert journal.compact() == 0
    assert journal.path.read_bytes() == b""


def test_append_validates_before_writing(journal: LinkJournal) -> None:
    with pytest.raises(ValueError):
        journal.append([])
    with pytest.raises(ValueError):
        journal.append("https://a.example/not-a-list")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        journal.append(["https://a.example/1"], {"bad": object()})
    assert not journal.path.exists() or journal.path.read_bytes() == b""


def test_non_utf8_file_name_round_trips(journal: LinkJournal) -> None:
    # A name that is not valid Unicode: on POSIX, what os.fsdecode makes of non-UTF-8 bytes
    # (surrogateescape); on Windows, an unpaired UTF-16 surrogate, which NTFS allows.
    odd = "/data/caf\udce9.torrent"
    if sys.platform != "win32":
        assert os.fsdecode(b"/data/caf\xe9.torrent") == odd
    journal.append([odd])
    assert LinkJournal(journal.path).pending()[0].items == (odd,)


def test_the_in_memory_view_matches_what_a_fresh_reader_sees(tmp_path: Path) -> None:
    """The journal keeps its pending entries in memory; the disk must agree."""
    path = tmp_path / "journal.jsonl"
    journal = LinkJournal(path)
    first = journal.append(["http://example.org/a"], source="t")
    assert [e.id for e in journal.pending()] == [first]
    second = journal.append(["http://example.org/b"], {"pause": "true"}, source="t")
    journal.mark_done(first)
    assert journal.pending() == LinkJournal(path).pending()
    assert [e.id for e in journal.pending()] == [second]
    journal.compact()
    assert journal.pending() == LinkJournal(path).pending()


def test_a_torrent_is_kept_as_a_private_copy_until_done(
    journal: LinkJournal, tmp_path: Path
) -> None:
    """issue 8, item 3: browsers delete the temporary .torrent they handed over."""
    torrent = tmp_path / "tmp-from-browser.torrent"
    torrent.write_bytes(b"d4:infod4:name1:xee")
    entry_id = journal.append([str(torrent), "https://a.example/f"])
    torrent.unlink()

    [entry] = LinkJournal(journal.path).pending()  # as the next start reads it
    copy = Path(entry.sources[0])
    assert entry.items[0] == str(torrent) and entry.sources[1] == "https://a.example/f"
    assert copy.read_bytes() == b"d4:infod4:name1:xee" and copy.suffix == ".torrent"
    if sys.platform != "win32":
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert stat.S_IMODE(journal.files_dir.stat().st_mode) == 0o700

    journal.mark_done(entry_id)
    assert not copy.exists()


def test_compact_drops_copies_of_entries_that_are_done(
    journal: LinkJournal, tmp_path: Path
) -> None:
    torrent = tmp_path / "a.torrent"
    torrent.write_bytes(b"d4:infod4:name1:aee")
    kept = journal.append([str(torrent)])
    stray = journal.files_dir / "0123456789abcdef"  # a crash between done and removal
    stray.mkdir()
    (stray / "0-b.torrent").write_bytes(b"x")
    journal.compact()
    assert not stray.exists()
    assert (journal.files_dir / kept).is_dir()


def test_many_entries_are_marked_done_in_one_write(journal: LinkJournal) -> None:
    ids = [journal.append([f"https://a.example/{n}"]) for n in range(3)]
    journal.mark_done(*ids[:2])
    assert [e.id for e in LinkJournal(journal.path).pending()] == ids[2:]


# -- keyed appends: a request sent again is journaled once -----------------
KEY = "0123456789abcdef0123456789abcdef"


def test_a_keyed_batch_sent_again_is_written_once(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    first = LinkJournal(path).append(["https://a.example/1"], {}, "second launch", KEY)
    # the next primary (a fresh reader of the file) gets the same request again
    again = LinkJournal(path).append(["https://a.example/1"], {}, "command line", KEY)
    assert first == again == KEY
    assert [e.id for e in LinkJournal(path).pending()] == [KEY]
    assert len(path.read_bytes().splitlines()) == 1


def test_a_keyed_batch_already_done_is_not_added_again(journal: LinkJournal) -> None:
    journal.append(["https://a.example/1"], {}, "second launch", KEY)
    journal.mark_done(KEY)
    assert journal.append(["https://a.example/1"], {}, "command line", KEY) == KEY
    assert journal.pending() == []
    fresh = LinkJournal(journal.path)  # done, but not compacted yet: still known
    assert fresh.append(["https://a.example/1"], {}, "command line", KEY) == KEY
    assert fresh.pending() == []


def test_a_key_reused_for_other_links_keeps_both(
    journal: LinkJournal, caplog: pytest.LogCaptureFixture
) -> None:
    journal.append(["https://a.example/1"], {}, "x", KEY)
    other = journal.append(["https://a.example/2"], {}, "x", KEY)
    assert other != KEY
    assert [e.items for e in journal.pending()] == [
        ("https://a.example/1",),
        ("https://a.example/2",),
    ]
    assert any("came again with other links" in m for m in warnings_of(caplog))


@pytest.mark.parametrize("key", ["../../escape", "A" * 32, "", KEY + "-x", "abc"])
def test_a_key_that_is_not_one_of_our_request_ids_is_no_key(journal: LinkJournal, key: str) -> None:
    entry_id = journal.append(["https://a.example/1"], {}, "x", key)
    assert entry_id != key and len(entry_id) == 32
    assert journal.append(["https://a.example/1"], {}, "x", key) != entry_id  # not idempotent
    assert not (journal.path.parent / "escape").exists()

"""The ledger: origins kept across restarts, restore entries, shown progress."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from aria2_core.ledger import MAGNET, TORRENT, DownloadLedger, Origin, Progress
from aria2_core.models import DownloadInfo, FileInfo
from aria2_core.session_restore import restore_entries


def _ledger(tmp_path: Path) -> DownloadLedger:
    return DownloadLedger(tmp_path / "downloads.json", tmp_path / "metadata")


def test_origins_and_metadata_survive_a_reload(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    name = ledger.keep_metadata(b"d4:infod4:name1:xee", TORRENT)
    assert ledger.keep_metadata(b"d4:infod4:name1:xee", TORRENT) == name  # kept once
    ledger.record(
        [Origin("a" * 16, TORRENT, file=name, options={"dir": "/dl", "header": ["A: b"]})]
    )
    again = _ledger(tmp_path)
    origin = again.get("a" * 16)
    assert origin is not None and origin.options == {"dir": "/dl", "header": ["A: b"]}
    assert again.metadata_path(origin).read_bytes() == b"d4:infod4:name1:xee"
    if sys.platform != "win32":  # private: the user's torrents are nobody else's business
        assert stat.S_IMODE((tmp_path / "metadata").stat().st_mode) == 0o700
        assert stat.S_IMODE(again.metadata_path(origin).stat().st_mode) == 0o600


def test_restore_entries_name_the_private_copy_gid_folder_and_pause(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    name = ledger.keep_metadata(b"torrent bytes", TORRENT)
    ledger.record(
        [
            Origin(
                "1" * 16,
                TORRENT,
                file=name,
                options={"dir": "/dl", "select-file": "2"},
                paused=True,
            ),
            Origin("2" * 16, TORRENT, file=name, options={"dir": "/dl"}),  # in aria2's session
            Origin("3" * 16, TORRENT, file=name, options={"dir": "/dl"}, finished=True),
            Origin("4" * 16, MAGNET, uris=("magnet:?xt=urn:btih:" + "a" * 40,)),  # aria2 saves it
        ]
    )
    text = restore_entries(ledger, f"x.torrent\n gid={'2' * 16}\n")
    assert text == (
        f"{tmp_path / 'metadata' / name}\n gid={'1' * 16}\n pause=true\n dir=/dl\n select-file=2\n"
    )


def test_a_value_with_a_line_break_is_never_restored(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    name = ledger.keep_metadata(b"t", TORRENT)
    ledger.record(
        [Origin("1" * 16, TORRENT, file=name, options={"dir": "/dl\non-download-complete=x"})]
    )
    assert restore_entries(ledger, "") == ""


def test_paused_rows_show_the_recorded_progress(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    gid = "5" * 16
    ledger.record([Origin(gid, "uri", uris=("http://h/f.bin",))])
    seen = DownloadInfo(
        gid, "paused", 1000, 400, dir="/dl",
        files=[FileInfo(1, "/dl/f.bin", 1000, 400, True, ("http://h/f.bin",))],
    )  # fmt: skip
    ledger.note_rows([seen])
    assert _ledger(tmp_path).get(gid).progress == Progress(1000, 400, (("/dl/f.bin", 1000, 400),))
    after_restart = [
        DownloadInfo(
            gid,
            "paused",
            0,
            0,
            name="f.bin",
            files=[FileInfo(1, "", 0, 0, True, ("http://h/f.bin",))],
        )
    ]
    _ledger(tmp_path).fill_progress(after_restart)
    shown = after_restart[0]
    assert (shown.total_length, shown.completed_length) == (1000, 400)
    assert shown.files[0].path == "/dl/f.bin" and shown.name == "f.bin"


def test_a_magnets_download_inherits_its_record_and_prune_drops_the_gone(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    name = ledger.keep_metadata(b"meta", TORRENT)
    ledger.record(
        [Origin("m" * 16, MAGNET, uris=("magnet:?x",)), Origin("t" * 16, TORRENT, file=name)]
    )
    ledger.note_rows([DownloadInfo("r" * 16, "active", following="m" * 16)])
    assert ledger.get("r" * 16).uris == ("magnet:?x",)
    ledger.prune(lambda gid: gid == "r" * 16)
    assert [o.gid for o in ledger.origins()] == ["r" * 16]
    assert not list((tmp_path / "metadata").iterdir())  # its last user is gone


def test_a_completed_download_forgets_its_headers_a_failed_one_keeps_them(tmp_path: Path) -> None:
    """Browser cookies travel as a header; the app home keeps none once the file is there."""
    from aria2_core.ledger import URI

    ledger = _ledger(tmp_path)
    options = {"dir": "/dl", "header": ["Cookie: sid=very-secret"], "out": "f.bin"}
    ledger.record([Origin("c" * 16, URI, uris=("https://e.org/f",), options=options),
                   Origin("f" * 16, URI, uris=("https://e.org/g",), options=options)])  # fmt: skip

    ledger.mark_finished(["c" * 16, "f" * 16], completed=["c" * 16])

    again = _ledger(tmp_path)
    done, failed = again.get("c" * 16), again.get("f" * 16)
    assert done is not None and done.finished and done.options == {"dir": "/dl", "out": "f.bin"}
    assert failed is not None and failed.finished and failed.options == options  # for Retry
    assert b"very-secret" in (tmp_path / "downloads.json").read_bytes()  # the failed one's
    ledger.forget(["f" * 16])
    assert b"very-secret" not in (tmp_path / "downloads.json").read_bytes()


def test_only_copies_named_by_their_own_sha1_are_moved(tmp_path: Path) -> None:
    from aria2_core.session_restore import adopt_copies

    folder = tmp_path / "dl"
    folder.mkdir()
    lookalike = folder / ("0" * 40 + ".torrent")  # hex-named, but not aria2's copy of itself
    lookalike.write_bytes(b"the user's own")
    session = f"{lookalike}\n gid={'1' * 16}\nhttp://h/x\tb\n gid={'2' * 16}\n"
    assert adopt_copies(_ledger(tmp_path), session) == (session, [])
    assert lookalike.exists()


def test_a_copy_aria2s_session_names_is_never_deleted(tmp_path: Path) -> None:
    session = tmp_path / "session.txt"
    ledger = DownloadLedger(tmp_path / "downloads.json", tmp_path / "metadata", session)
    named = ledger.keep_metadata(b"named in the session", TORRENT)
    spare = ledger.keep_metadata(b"named nowhere", TORRENT)
    session.write_text(f"{tmp_path / 'metadata' / named}\n gid={'9' * 16}\n")
    ledger.record([Origin("1" * 16, TORRENT, file=spare)])
    ledger.prune(lambda gid: False)
    assert [p.name for p in (tmp_path / "metadata").iterdir()] == [named]


def test_an_old_entry_without_a_folder_gets_the_one_aria2_wrote_its_copy_into(
    tmp_path: Path,
) -> None:
    import hashlib

    from aria2_core.session_restore import adopt_copies

    folder = tmp_path / "chosen"
    folder.mkdir()
    data = b"d4:infod4:name1:xee"
    copy = folder / (hashlib.sha1(data).hexdigest() + ".torrent")
    copy.write_bytes(data)
    ledger = _ledger(tmp_path)
    text, moved = adopt_copies(ledger, f"{copy}\n gid={'1' * 16}\n pause=true\n")
    assert moved == [copy]
    assert (
        text
        == f"{tmp_path / 'metadata' / copy.name}\n gid={'1' * 16}\n pause=true\n dir={folder}\n"
    )
    origin = ledger.get("1" * 16)
    assert origin is not None and origin.paused and origin.options == {"dir": str(folder)}


def test_the_info_dictionary_is_found_by_its_hash(tmp_path: Path) -> None:
    import hashlib

    from aria2_core.session_restore import info_dictionary
    from support.fixture_files import write_tracked_torrent

    payload = tmp_path / "p.bin"
    payload.write_bytes(b"x" * 40_000)
    torrent, info_hash = write_tracked_torrent(tmp_path, payload, "http://127.0.0.1:1/announce")
    span = info_dictionary(torrent.read_bytes())
    assert span is not None and hashlib.sha1(span).hexdigest() == info_hash
    assert info_dictionary(b"not bencode") is None
    assert info_dictionary(b"d4:info") is None  # cut off
    assert info_dictionary(b"d4:info" + b"l" * 5000) is None  # deep nesting is no crash


def test_a_magnets_entry_loads_from_the_kept_metadata_under_the_rows_gid(tmp_path: Path) -> None:
    from aria2_core.session_restore import adopt_copies

    ledger = _ledger(tmp_path)
    name = ledger.keep_metadata(b"d4:infod4:name1:xee", TORRENT)
    magnet = "magnet:?xt=urn:btih:" + "a" * 40
    ledger.record([Origin("r" * 16, TORRENT, uris=(magnet,), file=name)])
    text, moved = adopt_copies(ledger, f"{magnet}\n gid={'m' * 16}\n dir=/dl\n")
    assert moved == []
    assert text == f"{tmp_path / 'metadata' / name}\n gid={'r' * 16}\n dir=/dl\n"


def test_a_broken_ledger_is_set_aside_and_no_copy_is_deleted_for_it(tmp_path: Path) -> None:
    """A ledger that cannot be read says nothing about which copies are unused.

    Before: it was taken for an empty one, saved over at the next change,
    and every private .torrent copy aria2's session did not name was deleted.
    """
    first = _ledger(tmp_path)
    name = first.keep_metadata(b"d4:infod4:name1:xee", TORRENT)
    first.record([Origin("a" * 16, TORRENT, file=name)])
    (tmp_path / "downloads.json").write_bytes(b'{"version": 1, "origins": [ torn')

    ledger = _ledger(tmp_path)
    ledger.record([Origin("b" * 16, TORRENT, file="")])
    ledger.prune(lambda gid: False)  # a sweep that would drop every copy no record names

    assert [p.name for p in (tmp_path / "metadata").iterdir()] == [name]
    (aside,) = tmp_path.glob("downloads.json.broken-*")
    assert aside.read_bytes() == b'{"version": 1, "origins": [ torn'


def test_a_ledger_that_can_be_neither_read_nor_moved_is_never_saved_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _ledger(tmp_path)
    first.record([Origin("a" * 16, MAGNET, uris=("magnet:?xt=urn:btih:" + "c" * 40,))])
    before = (tmp_path / "downloads.json").read_bytes()

    def held(*_: object) -> bytes:
        raise PermissionError("held by another program")

    monkeypatch.setattr("aria2_core.ledger.read_bytes", held)
    monkeypatch.setattr("aria2_core.atomic_file.os.replace", held)
    ledger = _ledger(tmp_path)
    monkeypatch.undo()
    ledger.record([Origin("b" * 16, MAGNET, uris=("magnet:?xt=urn:btih:" + "d" * 40,))])
    assert (tmp_path / "downloads.json").read_bytes() == before
    assert _ledger(tmp_path).get("a" * 16) is not None


def test_a_ledger_whose_origins_are_not_a_list_is_set_aside_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "downloads.json").write_bytes(b'{"version": 1, "origins": 5}')
    assert _ledger(tmp_path).origins() == []
    assert len(list(tmp_path.glob("downloads.json.broken-*"))) == 1

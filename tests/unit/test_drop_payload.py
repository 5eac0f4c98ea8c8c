"""What a drop or a paste carries, as items (Qt-free; the Qt side is test_drops.py)."""

from __future__ import annotations

from pathlib import Path

from aria2_core.drop_payload import items_from_payload, items_from_text
from aria2_core.links import LinkKind, parse_many

MAGNET = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x"


def test_uri_list_wins_and_local_files_become_paths(tmp_path: Path) -> None:
    torrent = tmp_path / "my file.torrent"
    torrent.write_bytes(b"d4:infod4:name1:xee")
    uri_list = f"# comment\r\n{torrent.as_uri()}\r\nhttp://h/a.iso\r\n"
    items = items_from_payload(uri_list, text="caption only", html="<a href='http://x/y'>y</a>")
    assert items == [str(torrent), "http://h/a.iso"]
    parsed = parse_many(items)
    assert [link.kind for link in parsed.links] == [LinkKind.TORRENT, LinkKind.URI]


def test_html_gives_the_hrefs_behind_captions() -> None:
    html = (
        '<p>Get <a href="http://h/a.iso">the ISO</a> or <a href="#top">top</a>, '
        f'<a href="{MAGNET.replace("&", "&amp;")}">magnet</a> <a href="notes.html">notes</a></p>'
    )
    items = items_from_payload(None, text="Get the ISO or top, magnet notes", html=html)
    assert items == ["http://h/a.iso", MAGNET, "notes.html"]
    parsed = parse_many(items)
    assert [e.source for e in parsed.errors] == ["notes.html"]  # relative: told, not hidden


def test_text_keeps_link_lines_whole_and_picks_links_out_of_prose() -> None:
    text = (
        "Downloads:\n"
        "see https://h/one.bin, and (https://h/two.bin).\n"
        "ftp2://h/typo.bin\n"
        "www.example.com/missing-scheme.zip\n"
        f"{MAGNET}\n"
        "/no/such/file.torrent\n"
        "https://h/one.bin\n"
    )
    items = items_from_text(text)
    assert items == [
        "https://h/one.bin",
        "https://h/two.bin",
        "ftp2://h/typo.bin",
        "www.example.com/missing-scheme.zip",
        MAGNET,
        "/no/such/file.torrent",
    ]
    parsed = parse_many(items)
    assert len(parsed.links) == 3
    reasons = {e.source: e.reason for e in parsed.errors}
    assert reasons["ftp2://h/typo.bin"].startswith("unsupported scheme")
    assert reasons["www.example.com/missing-scheme.zip"].startswith("missing scheme")
    assert reasons["/no/such/file.torrent"] == "file not found"


def test_nothing_link_like_is_empty() -> None:
    assert items_from_payload(None, "just some words\nand more", "<b>bold</b>") == []
    assert items_from_payload("", "", "") == []


def test_a_thousand_links_in_text() -> None:
    text = "\n".join(f"http://127.0.0.1:9/file-{n}.bin" for n in range(1000))
    items = items_from_payload(None, text, None)
    assert len(items) == 1000
    assert len(parse_many(items).links) == 1000

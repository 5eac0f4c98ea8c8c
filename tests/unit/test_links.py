"""Link parsing: every accepted shape, every rejection reason, every payload flavour."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aria2_core import links
from aria2_core.errors import LinkError
from aria2_core.links import (
    Link,
    LinkKind,
    extract_hrefs,
    extract_links,
    is_remote,
    parse_link,
    parse_many,
    parse_uri_list,
)

BTIH_HEX = "0123456789abcdef0123456789abcdef01234567"
BTIH_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A folder with one file of every kind, and one of no kind."""
    for name in ("a.torrent", "b.metalink", "c.meta4", "D.TORRENT", "notes.txt", "my file.torrent"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "folder.torrent").mkdir()
    return tmp_path


def reason_of(text: str, cwd: str | None = None) -> str:
    with pytest.raises(LinkError) as info:
        parse_link(text, cwd)
    assert info.value.source == text
    return info.value.reason


# -- URLs -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/file.iso",
        "https://example.com:8443/a/b?c=d#frag",
        "HTTPS://EXAMPLE.COM/X",
        "ftp://user:pw@ftp.example.org/pub/file.tar.gz",
        "sftp://host/home/me/file",
        "http://127.0.0.1:8080/x",
        "http://[::1]:6800/x",
        "http://example.com/a%20b.zip",
    ],
)
def test_urls_are_accepted_unchanged(url: str) -> None:
    assert parse_link(url) == Link(LinkKind.URI, url)


def test_surrounding_whitespace_is_stripped() -> None:
    assert parse_link("  http://example.com/x \r\n").value == "http://example.com/x"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("xyz://example.com/x", links.REASON_SCHEME.format(scheme="xyz")),
        ("mailto:someone@example.com", links.REASON_SCHEME.format(scheme="mailto")),
        ("javascript:alert(1)", links.REASON_SCHEME.format(scheme="javascript")),
        ("HTTP:///nohost", links.REASON_NO_HOST),
        ("http://", links.REASON_NO_HOST),
        ("https://:443/x", links.REASON_NO_HOST),
        ("http://example.com:99999/x", links.REASON_BAD_PORT),
        ("http://example.com:port/x", links.REASON_BAD_PORT),
        ("http://exa mple.com/a.zip", links.REASON_BAD_CHARS),
        ("http://example.com/a\x00b", links.REASON_BAD_CHARS),
        ("http://exa\tmple.com/", links.REASON_BAD_CHARS),
        ("example.com/file.iso", links.REASON_NO_SCHEME),
        ("www.example.com", links.REASON_NO_SCHEME),
        ("localhost:8080/file.iso", links.REASON_NO_SCHEME),
        ("", links.REASON_EMPTY),
        ("   ", links.REASON_EMPTY),
        ("just some words", links.REASON_UNKNOWN),
    ],
)
def test_bad_urls_say_why(text: str, reason: str) -> None:
    assert reason_of(text) == reason


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("http://example.com/a b.zip", "http://example.com/a%20b.zip"),
        (
            "http://example.com/my file (1).iso?q=a b#x y",
            "http://example.com/my%20file%20(1).iso?q=a%20b#x%20y",
        ),
        (
            "https://example.com/下载/文件.zip",
            "https://example.com/%E4%B8%8B%E8%BD%BD/%E6%96%87%E4%BB%B6.zip",
        ),
        ('http://example.com/"quoted"<x>', "http://example.com/%22quoted%22%3Cx%3E"),
        ("http://example.com/already%20encoded/a+b", "http://example.com/already%20encoded/a+b"),
        (f"magnet:?xt=urn:btih:{BTIH_HEX}&dn=a b", f"magnet:?xt=urn:btih:{BTIH_HEX}&dn=a%20b"),
    ],
)
def test_links_are_percent_encoded_as_a_browser_would(typed: str, sent: str) -> None:
    assert parse_link(typed).value == sent
    assert parse_link(sent).value == sent  # encoding twice changes nothing


def test_unsupported_scheme_reason_names_the_scheme_and_the_choices() -> None:
    reason = reason_of("xyz://host/x")
    assert "'xyz'" in reason
    for scheme in ("http", "https", "ftp", "sftp", "magnet"):
        assert scheme in reason


def test_link_error_message_carries_reason_and_source() -> None:
    with pytest.raises(LinkError) as info:
        parse_link("xyz://host/x")
    assert "unsupported scheme" in str(info.value)
    assert "xyz://host/x" in str(info.value)


# -- magnets ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "magnet",
    [
        f"magnet:?xt=urn:btih:{BTIH_HEX}",
        f"magnet:?xt=urn:btih:{BTIH_HEX.upper()}&dn=Some+Name&tr=udp%3A%2F%2Ft.example%3A80",
        f"magnet:?xt=urn:btih:{BTIH_B32}",
        f"MAGNET:?XT=URN:BTIH:{BTIH_HEX}",
        f"magnet:?dn=x&xt=urn:sha1:abc&xt=urn:btih:{BTIH_HEX}",
    ],
)
def test_magnets_with_an_info_hash_are_accepted(magnet: str) -> None:
    assert parse_link(magnet) == Link(LinkKind.MAGNET, magnet)


@pytest.mark.parametrize(
    ("magnet", "reason"),
    [
        ("magnet:?dn=nothing", links.REASON_NO_BTIH),
        ("magnet:", links.REASON_NO_BTIH),
        ("magnet:?xt=urn:sha1:abcdef", links.REASON_NO_BTIH),
        ("magnet:?xt=urn:btih:1234", links.REASON_BAD_BTIH),
        (f"magnet:?xt=urn:btih:{BTIH_HEX[:-1]}g", links.REASON_BAD_BTIH),
        (f"magnet:?xt=urn:btih:{BTIH_HEX}&dn=a\x01b", links.REASON_BAD_MAGNET_CHARS),
    ],
)
def test_bad_magnets_say_why(magnet: str, reason: str) -> None:
    assert reason_of(magnet) == reason


def test_no_info_hash_reason_shows_what_is_missing() -> None:
    assert "xt=urn:btih:" in reason_of("magnet:?dn=x")


# -- local files --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.torrent", LinkKind.TORRENT),
        ("b.metalink", LinkKind.METALINK),
        ("c.meta4", LinkKind.METALINK),
        ("D.TORRENT", LinkKind.TORRENT),
        ("my file.torrent", LinkKind.TORRENT),
    ],
)
def test_existing_files_become_absolute_paths(files: Path, name: str, kind: LinkKind) -> None:
    expected = Link(kind, str(files / name))
    assert parse_link(str(files / name)) == expected
    assert parse_link(name, cwd=str(files)) == expected
    assert parse_link(f"./sub/../{name}", cwd=str(files)) == expected


def test_relative_paths_default_to_the_process_cwd(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(files)
    assert parse_link("a.torrent") == Link(LinkKind.TORRENT, str(files / "a.torrent"))


def test_tilde_expands_to_home(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(files))
    monkeypatch.setenv("USERPROFILE", str(files))  # what expanduser reads on Windows
    assert parse_link("~/a.torrent") == Link(LinkKind.TORRENT, str(files / "a.torrent"))


def test_file_urls_become_paths(files: Path) -> None:
    path = files / "my file.torrent"
    expected = Link(LinkKind.TORRENT, str(path))
    assert parse_link(path.as_uri()) == expected
    assert parse_link("file://localhost" + path.as_uri()[len("file://") :]) == expected


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing.torrent", links.REASON_NOT_FOUND),
        ("missing.META4", links.REASON_NOT_FOUND),
        ("notes.txt", links.REASON_WRONG_SUFFIX),
        ("folder.torrent", links.REASON_NOT_A_FILE),
        ("missing.txt", links.REASON_UNKNOWN),
    ],
)
def test_bad_files_say_why(files: Path, name: str, reason: str) -> None:
    assert reason_of(name, cwd=str(files)) == reason
    assert reason_of(str(files / name)) == reason


def test_missing_file_url_is_not_found(files: Path) -> None:
    assert reason_of((files / "gone.torrent").as_uri()) == links.REASON_NOT_FOUND


def test_a_file_named_like_a_scheme_is_still_a_file(files: Path) -> None:
    (files / "odd:name.torrent").write_bytes(b"x")
    assert parse_link("odd:name.torrent", cwd=str(files)).kind is LinkKind.TORRENT


# -- batches -------------------------------------------------------------------------
def test_parse_many_keeps_good_lines_and_reports_bad_ones(files: Path) -> None:
    result = parse_many(
        [
            "# a saved list",
            "",
            "http://example.com/1",
            "xyz://nope",
            "   ",
            f"magnet:?xt=urn:btih:{BTIH_HEX}",
            "a.torrent",
            "missing.torrent",
            "  http://example.com/2  ",
        ],
        cwd=str(files),
    )
    assert result.links == [
        Link(LinkKind.URI, "http://example.com/1"),
        Link(LinkKind.MAGNET, f"magnet:?xt=urn:btih:{BTIH_HEX}"),
        Link(LinkKind.TORRENT, str(files / "a.torrent")),
        Link(LinkKind.URI, "http://example.com/2"),
    ]
    assert [(e.source, e.reason) for e in result.errors] == [
        ("xyz://nope", links.REASON_SCHEME.format(scheme="xyz")),
        ("missing.torrent", links.REASON_NOT_FOUND),
    ]


def test_parse_many_drops_duplicates_keeping_the_first(files: Path) -> None:
    result = parse_many(
        [
            "http://example.com/b",
            "http://example.com/a",
            "http://example.com/b",
            "a.torrent",
            str(files / "a.torrent"),
            (files / "a.torrent").as_uri(),
            "bad://x",
            "bad://x",
        ],
        cwd=str(files),
    )
    assert [link.value for link in result.links] == [
        "http://example.com/b",
        "http://example.com/a",
        str(files / "a.torrent"),
    ]
    assert len(result.errors) == 1


def test_parse_many_of_nothing_is_empty() -> None:
    result = parse_many([])
    assert result.links == [] and result.errors == []


def test_parse_many_accepts_any_iterable(files: Path) -> None:
    text = "http://example.com/x\r\n# comment\r\nc.meta4\r\n"
    result = parse_many(text.splitlines(), cwd=str(files))
    assert [link.kind for link in result.links] == [LinkKind.URI, LinkKind.METALINK]


# -- free text -------------------------------------------------------------------------
def test_extract_links_finds_links_in_prose_and_trims_punctuation() -> None:
    text = (
        "Get it from http://example.com/a.iso, or (mirror: https://mirror.example.org/a.iso). "
        f'The torrent is "magnet:?xt=urn:btih:{BTIH_HEX}&dn=a"; old FTP: <ftp://old.example/a>. '
        "Also 'sftp://host/x'! And https://example.com/q?x=1;"
    )
    assert extract_links(text) == [
        "http://example.com/a.iso",
        "https://mirror.example.org/a.iso",
        f"magnet:?xt=urn:btih:{BTIH_HEX}&dn=a",
        "ftp://old.example/a",
        "sftp://host/x",
        "https://example.com/q?x=1",
    ]


def test_extract_links_keeps_balanced_brackets() -> None:
    text = "(see https://en.wikipedia.org/wiki/Foo_(bar)) and [https://example.com/x]"
    assert extract_links(text) == [
        "https://en.wikipedia.org/wiki/Foo_(bar)",
        "https://example.com/x",
    ]


def test_extract_links_ignores_other_schemes_and_dedupes() -> None:
    text = (
        "mailto:a@b.c file:///etc/passwd http://x.example/1 HTTP://x.example/2 http://x.example/1"
    )
    assert extract_links(text) == ["http://x.example/1", "HTTP://x.example/2"]


def test_extract_links_from_nothing() -> None:
    assert extract_links("no links here, just text.") == []


# -- HTML -------------------------------------------------------------------------
def test_extract_hrefs_reads_anchor_tags() -> None:
    html = (
        '<meta charset="utf-8"><p>Download <A HREF="http://example.com/a?x=1&amp;y=2">A</A>, '
        "<a href='https://example.com/b'>B</a>, "
        '<a name="top">no href</a> <a href="#top">up</a> <a href="javascript:void(0)">js</a> '
        '<img src="http://example.com/img.png"> <a href=" ftp://example.com/c ">C</a> '
        '<a href="http://example.com/a?x=1&y=2">again</a> <a href="/relative">rel</a>'
    )
    assert extract_hrefs(html) == [
        "http://example.com/a?x=1&y=2",
        "https://example.com/b",
        "ftp://example.com/c",
        "/relative",
    ]


def test_extract_hrefs_survives_broken_html() -> None:
    assert extract_hrefs('<a href="http://example.com/x">unclosed <b><a href=') == [
        "http://example.com/x"
    ]
    assert extract_hrefs("") == []


# -- text/uri-list ---------------------------------------------------------------------
def test_parse_uri_list_follows_rfc_2483(files: Path) -> None:
    path = files / "my file.torrent"
    text = (
        "# dragged from a file manager\r\n"
        f"{path.as_uri()}\r\n"
        "http://example.com/a%20b\r\n"
        "\r\n"
        f"file://localhost{(path.parent / 'a.torrent').as_uri()[len('file://') :]}\r\n"
        "file://otherhost/x.torrent\r\n"
        "http://example.com/a%20b\r\n"
    )
    assert parse_uri_list(text) == [
        str(path),
        "http://example.com/a%20b",
        str(files / "a.torrent"),
        # a network share on Windows; elsewhere kept as dropped (see test_file_urls.py)
        r"\\otherhost\x.torrent" if sys.platform == "win32" else "file://otherhost/x.torrent",
    ]


def test_uri_list_paths_parse_as_links(files: Path) -> None:
    text = f"{(files / 'c.meta4').as_uri()}\n"
    result = parse_many(parse_uri_list(text))
    assert result.links == [Link(LinkKind.METALINK, str(files / "c.meta4"))]


@pytest.mark.parametrize(
    ("text", "remote"),
    [
        ("http://example.com/a.torrent", True),
        ("  HTTPS://example.com/a.iso", True),
        ("ftp://example.com/a", True),
        ("sftp://example.com/a", True),
        ("magnet:?xt=urn:btih:" + "a" * 40, True),
        ("file:///tmp/a.torrent", False),
        ("/tmp/a.torrent", False),
        ("C:\\a.torrent", False),
        ("example.com/a.iso", False),  # parse_link decides what this is
        ("", False),
    ],
)
def test_is_remote_looks_at_the_scheme_only(text: str, remote: bool) -> None:
    """The journal skips parsing these when it looks for local .torrent files."""
    assert is_remote(text) is remote

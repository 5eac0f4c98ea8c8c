"""Turn what a user gives us (typed, pasted, dropped, sent by IPC) into links.

Pure functions, no network and no Qt: the only I/O is checking that a local
.torrent/.metalink file exists, because a path that does not exist is a
mistake the user should hear about while the dialog is still open, not an
aria2 error later. Every rejection is a :class:`LinkError` whose reason says
what is wrong, so a batch dialog can show one clear line per bad input.

The sources differ in shape, hence one helper each:

* ``parse_link`` / ``parse_many``: one link per line (the add dialog, IPC).
* ``extract_links``: links buried in prose (a pasted paragraph, chat text).
* ``extract_hrefs``: browser drags, which carry ``text/html``.
* ``parse_uri_list``: file-manager drags, which carry ``text/uri-list``.
"""

from __future__ import annotations

import enum
import ntpath
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlsplit

from .errors import LinkError


def url2pathname(path: str, windows: bool = sys.platform == "win32") -> str:
    """The path part of a ``file:`` URL as a path of the given flavour.

    What ``urllib.request.url2pathname`` does, without importing
    ``urllib.request``: it costs 30-50 ms of start-up (http.client, email,
    ssl), and every launch, including a forwarding one, imports this module.
    ``nturl2path`` (what ``urllib.request`` uses on Windows) is pure Python,
    so the Windows flavour can be tested on any platform.
    """
    if windows:
        from nturl2path import url2pathname as nt_convert

        return nt_convert(path)
    from urllib.parse import unquote

    return unquote(path)  # urllib.request.url2pathname on POSIX


# A UNC server name: a NetBIOS or DNS name, or an IPv4 address. Anything else
# in a file:// URL's authority (user info, a port, brackets) is not a share.
_UNC_HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._$-]*$")
# "file://C:/x" (a drive where the host goes): a common hand-built mistake.
_DRIVE_HOST_RE = re.compile(r"^[A-Za-z][:|]$")


def file_url_to_path(url: str, windows: bool = sys.platform == "win32") -> str | None:
    r"""The path a ``file:`` URL names, or None when it is on a host we cannot open.

    ``file:///path`` and ``file://localhost/path`` are local everywhere. On
    Windows a URL with a host is a network share: Explorer and Qt
    (``QUrl.fromLocalFile(r"\\nas\share\a.torrent")``) write the UNC path
    ``\\nas\share\a.torrent`` as ``file://nas/share/a.torrent``, and
    ``file:////nas/share/a.torrent`` is the same path in the older spelling.
    Elsewhere another host cannot be reached by path, so None.
    """
    parts = urlsplit(url)
    host = parts.netloc
    if host.lower() in ("", "localhost"):
        return url2pathname(parts.path, windows)
    if not windows:
        return None
    if _DRIVE_HOST_RE.match(host):
        return url2pathname(f"/{host}{parts.path}", windows)
    if not _UNC_HOST_RE.match(host):
        return None
    share_path = url2pathname(parts.path, windows)
    if not share_path.startswith("\\\\"):
        share_path = ntpath.join("\\\\" + host, share_path.lstrip("\\"))
    return share_path


URL_SCHEMES = ("http", "https", "ftp", "sftp")
FILE_SUFFIXES = {".torrent": "TORRENT", ".metalink": "METALINK", ".meta4": "METALINK"}

REASON_EMPTY = "empty link"
REASON_SCHEME = "unsupported scheme '{scheme}' (use http, https, ftp, sftp or magnet)"
REASON_NO_HOST = "malformed URL (no host)"
REASON_BAD_PORT = "malformed URL (bad port)"
REASON_BAD_CHARS = "malformed URL (contains spaces or control characters)"
REASON_BAD_MAGNET_CHARS = "malformed magnet link (contains spaces or control characters)"
REASON_NO_SCHEME = "missing scheme (add http:// or https:// in front)"
REASON_NOT_FOUND = "file not found"
REASON_NOT_A_FILE = "not a file"
REASON_WRONG_SUFFIX = "not a .torrent, .metalink or .meta4 file"
REASON_UNKNOWN = "not a URL, a magnet link or a .torrent, .metalink or .meta4 file"
REASON_FILE_HOST = "file:// URL on another host (only local files can be added)"
REASON_NO_BTIH = "magnet link without an info hash (xt=urn:btih:…)"
REASON_BAD_BTIH = "magnet link with a malformed info hash (need 40 hex or 32 base32 characters)"


class LinkKind(enum.Enum):
    """What aria2 method a link needs: addUri, addTorrent or addMetalink."""

    URI = "uri"
    MAGNET = "magnet"
    TORRENT = "torrent"
    METALINK = "metalink"


@dataclass(frozen=True)
class Link:
    """One accepted input. ``value`` is the URL, or an absolute path for files."""

    kind: LinkKind
    value: str


@dataclass
class ParseResult:
    """A batch split into what can be added and what cannot, both in input order."""

    links: list[Link] = field(default_factory=list)
    errors: list[LinkError] = field(default_factory=list)


_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_BAD_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# What browser_encode leaves alone: reserved characters and existing escapes.
_URL_SAFE = "%/?#[]@!$&'()*+,;=:~"
# What quote(..., safe=_URL_SAFE) leaves as it is: ASCII letters, digits, "_.-~", _URL_SAFE.
_QUOTE_KEEPS = re.compile(r"[A-Za-z0-9_.\-~%/?#\[\]@!$&'()*+,;=:]*")
_HOST_END = re.compile(r"[/?#]")
_BTIH_RE = re.compile(r"^(?:[0-9A-Fa-f]{40}|[A-Za-z2-7]{32})$")
# "example.com/file.iso" or "www.example.com": a URL missing its scheme. A bare
# "name.ext" does not count: it is more likely a misspelt local file.
_BARE_HOST_RE = re.compile(
    r"^(?:www\.[A-Za-z0-9.-]+|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?/)", re.IGNORECASE
)
# "localhost:8080/file": urlsplit would call "localhost" the scheme.
_HOST_PORT_RE = re.compile(r"^[A-Za-z0-9.-]+:\d+(?:/|$)")


def parse_link(text: str, cwd: str | None = None) -> Link:
    """Classify one line of user input, or raise :class:`LinkError` saying why not.

    ``cwd`` anchors relative paths. It matters for links a second instance
    forwards over IPC: they are relative to *its* working directory, not ours.
    """
    source = text
    text = text.strip()
    if not text:
        raise LinkError(source, REASON_EMPTY)
    if text[:7].lower() == "magnet:":
        return _parse_magnet(source, text)
    match = _SCHEME_RE.match(text)
    # A one-letter "scheme" is a Windows drive (C:\x.torrent), not a scheme.
    if match and len(match.group(1)) > 1:
        scheme = match.group(1).lower()
        if scheme in URL_SCHEMES:
            return _parse_url(source, text)
        if scheme == "file":
            return _parse_file(source, _file_url_to_path(source, text), cwd)
        if not _looks_like_existing_file(text, cwd):
            if _HOST_PORT_RE.match(text):
                raise LinkError(source, REASON_NO_SCHEME)
            raise LinkError(source, REASON_SCHEME.format(scheme=scheme))
    return _parse_file(source, text, cwd)


def is_remote(text: str) -> bool:
    """True for a magnet or an http(s)/ftp/sftp URL: never a local file.

    A cheap look at the scheme only, so a caller that wants the local
    .torrent/.metalink files of a big batch (the journal) skips parsing the
    rest; :func:`parse_link` still has the last word on anything else.
    """
    text = text.lstrip()
    if text[:7].lower() == "magnet:":
        return True
    match = _SCHEME_RE.match(text)
    return match is not None and match.group(1).lower() in URL_SCHEMES


def parse_many(lines: Iterable[str], cwd: str | None = None) -> ParseResult:
    """Parse a batch, one link per line, keeping the good lines when others are bad.

    Blank lines and ``#`` comments are skipped, so a saved list can be pasted
    back. Duplicates (the same link twice, or two spellings of one file) are
    dropped, first one wins, so aria2 does not download a file twice.
    """
    result = ParseResult()
    seen_links: set[Link] = set()
    seen_errors: set[str] = set()
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            link = parse_link(stripped, cwd)
        except LinkError as exc:
            if stripped not in seen_errors:
                seen_errors.add(stripped)
                result.errors.append(exc)
            continue
        if link not in seen_links:
            seen_links.add(link)
            result.links.append(link)
    return result


# -- single-link helpers -------------------------------------------------------
def browser_encode(url: str) -> str:
    """Percent-encode what a browser would before sending: spaces, quotes, ``<>``, non-ASCII.

    Only after the host: a space there is an error, not a character to
    encode. Existing ``%XX`` escapes and every reserved character
    (``/?#[]@!$&'()*+,;=:``) are kept, so an encoded URL comes out unchanged.
    """
    scheme, sep, rest = url.partition("://") if "://" in url else ("", "", url)
    if scheme.lower() == "magnet" or url[:7].lower() == "magnet:":
        return url[:7] + _quote(url[7:])
    host_end = _HOST_END.search(rest)
    cut = host_end.start() if host_end else len(rest)
    return scheme + sep + rest[:cut] + _quote(rest[cut:])


def _quote(text: str) -> str:
    """``quote(text, safe=_URL_SAFE)``; a text it would leave alone is returned at once.

    Most links need no encoding, and a 1,000-link drop parses on the GUI thread.
    """
    return text if _QUOTE_KEEPS.fullmatch(text) else quote(text, safe=_URL_SAFE)


def _parse_url(source: str, text: str) -> Link:
    if _CONTROL_CHARS.search(text):
        raise LinkError(source, REASON_BAD_CHARS)
    text = browser_encode(text)
    if _BAD_URL_CHARS.search(text):  # whitespace left: in the host
        raise LinkError(source, REASON_BAD_CHARS)
    parts = urlsplit(text)
    if not parts.hostname:
        raise LinkError(source, REASON_NO_HOST)
    try:
        parts.port  # noqa: B018 - evaluated only for its ValueError
    except ValueError as exc:
        raise LinkError(source, REASON_BAD_PORT) from exc
    return Link(LinkKind.URI, text)


def _parse_magnet(source: str, text: str) -> Link:
    if _CONTROL_CHARS.search(text):
        raise LinkError(source, REASON_BAD_MAGNET_CHARS)
    text = browser_encode(text)
    query = text[7:].lstrip("?")
    hashes = [
        value[9:]
        for key, value in parse_qsl(query, keep_blank_values=True)
        if key.lower() == "xt" and value[:9].lower() == "urn:btih:"
    ]
    if not hashes:
        raise LinkError(source, REASON_NO_BTIH)
    if not any(_BTIH_RE.match(info_hash) for info_hash in hashes):
        raise LinkError(source, REASON_BAD_BTIH)
    return Link(LinkKind.MAGNET, text)


def _file_url_to_path(source: str, text: str) -> str:
    path = file_url_to_path(text)
    if path is None:
        raise LinkError(source, REASON_FILE_HOST)
    return path


def _absolute(path: str, cwd: str | None) -> str:
    expanded = os.path.expanduser(path)
    if not os.path.isabs(expanded):
        expanded = os.path.join(cwd or os.getcwd(), expanded)
    return os.path.normpath(expanded)


def _looks_like_existing_file(text: str, cwd: str | None) -> bool:
    return os.path.isfile(_absolute(text, cwd))


def _parse_file(source: str, path: str, cwd: str | None) -> Link:
    absolute = _absolute(path, cwd)
    kind_name = FILE_SUFFIXES.get(os.path.splitext(absolute)[1].lower())
    if kind_name is None:
        if os.path.isfile(absolute):
            raise LinkError(source, REASON_WRONG_SUFFIX)
        if _BARE_HOST_RE.match(path):
            raise LinkError(source, REASON_NO_SCHEME)
        raise LinkError(source, REASON_UNKNOWN)
    if not os.path.exists(absolute):
        raise LinkError(source, REASON_NOT_FOUND)
    if not os.path.isfile(absolute):
        raise LinkError(source, REASON_NOT_A_FILE)
    return Link(LinkKind[kind_name], absolute)


# -- extraction from bigger payloads ---------------------------------------------
_LINK_IN_TEXT_RE = re.compile(
    r"(?:(?:https?|s?ftp)://|magnet:\?)[^\s<>\"`{}|\\^\x00-\x1f\x7f]+", re.IGNORECASE
)
_TRAILING_JUNK = ".,;:!?'\">)]}"


def _trim_token(token: str) -> str:
    """Drop punctuation that ends a sentence, not the URL.

    A closing bracket stays when it balances one inside the URL, so
    ``https://en.wikipedia.org/wiki/Foo_(bar)`` survives being written in
    parentheses: "(see https://…/Foo_(bar))".
    """
    pairs = {")": "(", "]": "[", "}": "{"}
    while token and token[-1] in _TRAILING_JUNK:
        last = token[-1]
        if last in pairs and token.count(pairs[last]) >= token.count(last):
            break
        token = token[:-1]
    return token


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def extract_links(text: str) -> list[str]:
    """Find http(s), ftp, sftp and magnet links inside free text, in order, once each."""
    return _unique(_trim_token(match.group(0)) for match in _LINK_IN_TEXT_RE.finditer(text))


def extract_hrefs(html: str) -> list[str]:
    """The ``href`` of every ``<a>`` in an HTML fragment, in order, once each.

    Browsers put ``text/html`` on a drag of a link or a selection, and the
    plain-text flavour then often holds only the link's caption. Fragment
    links (``#top``) and ``javascript:`` hrefs are dropped: they can never be
    downloads. Relative hrefs are kept for the caller to reject visibly.

    ``html.parser`` (with its table of 2,000 entities, 0.4 MB) is imported
    here, on the first HTML drop, not by every session at rest (issue 11).
    """
    from html.parser import HTMLParser

    class HrefCollector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.hrefs: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag != "a":
                return
            for name, value in attrs:
                if name == "href" and value:
                    self.hrefs.append(value.strip())

    collector = HrefCollector()
    collector.feed(html)
    collector.close()
    return _unique(
        href
        for href in collector.hrefs
        if not href.startswith("#") and not href.lower().startswith("javascript:")
    )


def parse_uri_list(text: str) -> list[str]:
    """Read an RFC 2483 ``text/uri-list`` (what file managers put on a drag).

    Lines end in CRLF, ``#`` starts a comment. ``file://`` URLs become local
    paths so that :func:`parse_link` sees a .torrent the way a user typed it;
    other URLs are returned unchanged.
    """
    items: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line[:5].lower() == "file:":
            # A file on a host we cannot open stays a URL, for parse_link to reject by name.
            line = file_url_to_path(line) or line
        items.append(line)
    return _unique(items)

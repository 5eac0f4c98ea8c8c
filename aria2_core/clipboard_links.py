"""Which copied links are worth offering as downloads (the tray's clipboard watch).

Copying is constant and mostly not about downloads, so the watch offers
only what looks like a file: a magnet link, a ``.torrent``/``.metalink``
file, or an http(s)/ftp/sftp URL whose path ends in a file name with an
extension that is not a web page (``.iso``, ``.zip``, ``.pdf`` … but not
``/``, ``.html`` or ``.php``). An address-bar URL copied to share a page is
not a download, and offering it would teach the user to ignore the notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from .links import LinkKind, parse_many

WEB_PAGE_SUFFIXES = frozenset(
    {".htm", ".html", ".xhtml", ".shtml", ".php", ".asp", ".aspx", ".jsp", ".cgi", ".do"}
)
MAX_OFFERED = 100


def looks_like_file_url(url: str) -> bool:
    """A URL whose last path segment is a file name with a non-page extension."""
    path = unquote(urlsplit(url).path)
    if not path or path.endswith("/"):
        return False
    suffix = PurePosixPath(path).suffix.lower()
    return bool(suffix) and suffix not in WEB_PAGE_SUFFIXES and len(suffix) <= 12


def download_links(items: Iterable[str]) -> list[str]:
    """The items (as read from the clipboard) that look like downloads, in order, once each."""
    found: list[str] = []
    for link in parse_many(list(items)[: MAX_OFFERED * 4]).links:
        if link.kind == LinkKind.URI and not looks_like_file_url(link.value):
            continue
        found.append(link.value)
    return list(dict.fromkeys(found))[:MAX_OFFERED]

"""Is a new link already a download? Matching links against the list, without Qt.

Adding a link that is already in the list made a second row that "completed"
at once: aria2 found the finished file and called it done. So before links go
in, each is matched against the downloads the app knows (live and history):

* a URL by its text, against every download's source URIs;
* a magnet by its info hash (hex or base32), against every torrent's hash;
* a ``.torrent`` file by the info hash of its ``info`` dictionary.

What to do with a duplicate (show the existing one, or download it again) is
the UI's question; :data:`AGAIN_OPTIONS` are the aria2 options that make a
download-again a real one, into a new file beside the old.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from .links import Link, LinkKind
from .models import DownloadInfo

# Download again: do not "continue" the finished file (aria2 would call it
# complete at once), never overwrite it; write "name.1.ext" beside it.
AGAIN_OPTIONS = {"continue": "false", "allow-overwrite": "false", "auto-file-renaming": "true"}
_TORRENT_READ_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class Duplicate:
    """A new link and the download it duplicates."""

    link: Link
    existing: DownloadInfo


def find_duplicates(links: Sequence[Link], downloads: Iterable[DownloadInfo]) -> list[Duplicate]:
    """The ``links`` that are already downloads, in link order (each with the first match)."""
    by_key: dict[str, DownloadInfo] = {}
    for info in downloads:
        if info.is_metadata and info.followed_by:
            continue  # a magnet's finished metadata step: its follower is the download
        for key in download_keys(info):
            by_key.setdefault(key, info)
    found = []
    for link in links:
        match = next((by_key[k] for k in link_keys(link) if k in by_key), None)
        if match is not None:
            found.append(Duplicate(link, match))
    return found


def download_keys(info: DownloadInfo) -> set[str]:
    keys = {f"uri:{uri}" for f in info.files for uri in getattr(f, "uris", ())}
    if info.info_hash:
        keys.add(f"btih:{info.info_hash.lower()}")
    return keys


def link_keys(link: Link) -> set[str]:
    if link.kind == LinkKind.MAGNET:
        return {f"btih:{h}" for h in magnet_hashes(link.value)}
    if link.kind == LinkKind.TORRENT:
        info_hash = torrent_info_hash(Path(link.value))
        return {f"btih:{info_hash}"} if info_hash else set()
    if link.kind == LinkKind.METALINK:
        return set()  # its sources are inside the file; aria2 names the download
    return {f"uri:{link.value}"}


def magnet_hashes(magnet: str) -> set[str]:
    """A magnet's BitTorrent info hashes, as lowercase hex (base32 ones converted)."""
    hashes = set()
    for key, value in parse_qsl(urlsplit(magnet).query):
        if key.lower() != "xt" or not value.lower().startswith("urn:btih:"):
            continue
        digest = value[9:]
        if len(digest) == 32:
            try:
                digest = base64.b32decode(digest.upper()).hex()
            except (binascii.Error, ValueError):
                continue
        hashes.add(digest.lower())
    return hashes


def torrent_info_hash(path: Path) -> str | None:
    """SHA-1 of the bencoded ``info`` dictionary of a .torrent file, or None."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_TORRENT_READ_LIMIT)
        if data[:1] != b"d":
            return None
        at = 1
        while data[at : at + 1] != b"e":
            key_end = _end(data, at)
            value_end = _end(data, key_end)
            if data[at:key_end] == b"4:info":
                return hashlib.sha1(data[key_end:value_end]).hexdigest()
            at = value_end
    except (OSError, ValueError, IndexError):
        return None
    return None


def _end(data: bytes, at: int) -> int:
    """Where the bencoded value starting at ``at`` ends (raises on garbage)."""
    kind = data[at : at + 1]
    if kind == b"i":
        return data.index(b"e", at) + 1
    if kind in (b"l", b"d"):
        at += 1
        while data[at : at + 1] != b"e":
            if at >= len(data):
                raise ValueError("truncated bencode")
            at = _end(data, at)
        return at + 1
    colon = data.index(b":", at)
    return colon + 1 + int(data[at:colon])

"""What names a download in aria2's queue, so a link can be found there again.

A drain that failed part-way, or a replay after a crash, may send links that
aria2 already took. Before sending them again, :mod:`aria2_core.intake`
compares them with aria2's queue: by URI for URLs, and by BitTorrent info
hash for magnets and ``.torrent`` files (aria2 lists a torrent's hash, not
the file it came from). Metalinks name many things and are not matched.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from .links import Link, LinkKind

_BTIH_RE = re.compile(r"xt=urn:btih:([0-9A-Za-z]+)", re.IGNORECASE)


def task_identities(task: dict[str, Any]) -> set[str]:
    """What :func:`link_identity` can return for links that became ``task``."""
    found = {u.get("uri", "") for f in task.get("files", []) for u in f.get("uris", [])}
    if task.get("infoHash"):
        found.add(f"btih:{str(task['infoHash']).lower()}")
    return found


def link_identity(link: Link) -> str | None:
    """The name ``link`` has in aria2's queue once added, or None if it has none."""
    if link.kind is LinkKind.URI:
        return link.value
    if link.kind is LinkKind.MAGNET:
        match = _BTIH_RE.search(link.value)
        return f"btih:{_hex_hash(match.group(1))}" if match else None
    if link.kind is LinkKind.TORRENT:
        try:
            digest = torrent_info_hash(Path(link.value).read_bytes())
        except OSError:
            return None
        return f"btih:{digest}" if digest else None
    return None


def _hex_hash(value: str) -> str:
    if len(value) == 32:  # the base32 form
        try:
            return base64.b32decode(value.upper()).hex()
        except ValueError:
            return value.lower()
    return value.lower()


def torrent_info_hash(data: bytes) -> str | None:
    """SHA-1 of the bencoded ``info`` dictionary, or None if ``data`` is not a torrent."""
    try:
        if data[:1] != b"d":
            return None
        pos = 1
        while data[pos : pos + 1] != b"e":
            key, pos = _bstring(data, pos)
            end = _bskip(data, pos)
            if key == b"info":
                return hashlib.sha1(data[pos:end]).hexdigest()
            pos = end
    except (IndexError, ValueError):
        return None
    return None


def _bstring(data: bytes, pos: int) -> tuple[bytes, int]:
    colon = data.index(b":", pos)
    length = int(data[pos:colon])
    if length < 0 or colon + 1 + length > len(data):
        raise ValueError("truncated string")
    return data[colon + 1 : colon + 1 + length], colon + 1 + length


def _bskip(data: bytes, pos: int) -> int:
    """The index just past the bencoded value that starts at ``pos``."""
    lead = data[pos : pos + 1]
    if lead == b"i":
        return data.index(b"e", pos) + 1
    if lead in (b"l", b"d"):
        pos += 1
        while data[pos : pos + 1] != b"e":
            if not data[pos : pos + 1]:
                raise ValueError("truncated")
            pos = _bskip(data, pos)
        return pos + 1
    if lead.isdigit():
        return _bstring(data, pos)[1]
    raise ValueError("not bencode")

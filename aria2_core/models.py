"""Typed records for what aria2 reports, built from its raw RPC dicts.

aria2 sends every number as a decimal string and leaves keys out when they
do not apply (no ``bittorrent`` for HTTP, no ``errorCode`` while active) or
when the caller filtered them with ``keys``. The constructors here absorb
all of that once, so the layers above see ints, bools and ``None`` and never
write ``int(d.get("totalLength", "0") or 0)`` again.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

METADATA_PREFIX = "[METADATA]"
STATUSES = ("active", "waiting", "paused", "error", "complete", "removed")

# What a list view asks tellActive/tellWaiting/tellStopped for. ``files`` is the
# heavy one, but an HTTP download's name comes only from its file path or URI.
# ``followedBy``/``following``/``belongsTo`` link a magnet's metadata download
# to the real torrent download that replaces it.
STATUS_KEYS: tuple[str, ...] = (
    "gid",
    "status",
    "totalLength",
    "completedLength",
    "downloadSpeed",
    "uploadSpeed",
    "connections",
    "numSeeders",
    "dir",
    "errorCode",
    "errorMessage",
    "infoHash",
    "bittorrent",
    "files",
    "followedBy",
    "following",
    "belongsTo",
)


def _int(data: Mapping[str, Any], key: str, default: int = 0) -> int:
    """aria2's decimal strings as ints; missing or garbled values give ``default``."""
    try:
        return int(data.get(key, default) or default)
    except (TypeError, ValueError):
        return default


def _str_or_none(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return str(value) if value not in (None, "") else None


def _last_segment(uri: str) -> str:
    """The file name a URI points at, unquoted, without query or fragment."""
    path = urlsplit(uri).path
    return unquote(posixpath.basename(path.rstrip("/")))


@dataclass(frozen=True)
class FileInfo:
    """One file of a download (an HTTP download has one, a torrent many)."""

    index: int
    path: str
    length: int
    completed_length: int
    selected: bool
    uris: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileInfo:
        uris = tuple(
            dict.fromkeys(
                str(item.get("uri", "")) for item in data.get("uris") or () if item.get("uri")
            )
        )
        return cls(
            index=_int(data, "index"),
            path=str(data.get("path") or ""),
            length=_int(data, "length"),
            completed_length=_int(data, "completedLength"),
            selected=str(data.get("selected", "true")).lower() == "true",
            uris=uris,
        )


@dataclass
class DownloadInfo:
    """One download as aria2 last described it."""

    gid: str
    status: str = "waiting"
    total_length: int = 0
    completed_length: int = 0
    download_speed: int = 0
    upload_speed: int = 0
    connections: int = 0
    num_seeders: int = 0
    name: str = ""
    dir: str = ""
    error_code: int | None = None
    error_message: str = ""
    is_torrent: bool = False
    info_hash: str | None = None
    files: list[FileInfo] = field(default_factory=list)
    followed_by: tuple[str, ...] = ()
    following: str | None = None
    belongs_to: str | None = None
    is_metadata: bool = False

    @classmethod
    def from_status(cls, data: Mapping[str, Any]) -> DownloadInfo:
        """Build from a ``tellStatus``-shaped dict, full or filtered by ``keys``."""
        gid = str(data.get("gid", ""))
        files = [FileInfo.from_dict(item) for item in data.get("files") or ()]
        bittorrent = data.get("bittorrent")
        error_code = data.get("errorCode")
        # A magnet first downloads only its metadata, as a file named
        # "[METADATA]<dn or info hash>"; a new GID in followedBy then does the real work.
        is_metadata = bool(files) and files[0].path.startswith(METADATA_PREFIX)
        return cls(
            gid=gid,
            status=str(data.get("status") or "waiting"),
            total_length=_int(data, "totalLength"),
            completed_length=_int(data, "completedLength"),
            download_speed=_int(data, "downloadSpeed"),
            upload_speed=_int(data, "uploadSpeed"),
            connections=_int(data, "connections"),
            num_seeders=_int(data, "numSeeders"),
            name=_name(gid, bittorrent, files),
            dir=str(data.get("dir") or ""),
            # aria2 reports errorCode "0" for downloads that ended well.
            error_code=_int(data, "errorCode") if error_code not in (None, "") else None,
            error_message=str(data.get("errorMessage") or ""),
            is_torrent=bittorrent is not None or bool(data.get("infoHash")),
            info_hash=_str_or_none(data, "infoHash"),
            files=files,
            followed_by=tuple(str(g) for g in data.get("followedBy") or ()),
            following=_str_or_none(data, "following"),
            belongs_to=_str_or_none(data, "belongsTo"),
            is_metadata=is_metadata,
        )

    @property
    def progress(self) -> float:
        """Fraction done, 0..1. A finished download of unknown size counts as 1."""
        if self.total_length > 0:
            return min(1.0, self.completed_length / self.total_length)
        return 1.0 if self.status == "complete" else 0.0

    @property
    def eta_seconds(self) -> int | None:
        """Seconds left at the current speed; ``None`` when that cannot be known."""
        if self.status == "complete":
            return 0
        if self.total_length <= 0 or self.download_speed <= 0:
            return None
        remaining = max(0, self.total_length - self.completed_length)
        return math.ceil(remaining / self.download_speed)

    @property
    def is_seeding(self) -> bool:
        """A torrent that has all its data and only uploads (aria2 still calls it active)."""
        return (
            self.is_torrent
            and self.status == "active"
            and self.total_length > 0
            and self.completed_length >= self.total_length
        )

    @property
    def is_finished(self) -> bool:
        """True for the states aria2 will never leave on its own."""
        return self.status in ("complete", "error", "removed")


def _name(gid: str, bittorrent: Any, files: list[FileInfo]) -> str:
    """The name a user recognises, from the best source aria2 has so far.

    A torrent's own name first; then the first file's name (known once the
    HTTP response or metadata arrived); then the URL's last segment (known at
    once); the GID only when there is nothing else.
    """
    if isinstance(bittorrent, Mapping):
        info = bittorrent.get("info")
        if isinstance(info, Mapping) and info.get("name"):
            return str(info["name"])
    if files:
        first = files[0]
        if first.path.startswith(METADATA_PREFIX):
            return first.path[len(METADATA_PREFIX) :] or gid
        if first.path:
            return posixpath.basename(first.path.replace("\\", "/")) or first.path
        for uri in first.uris:
            segment = _last_segment(uri)
            if segment:
                return segment
    return gid


@dataclass(frozen=True)
class GlobalStat:
    """aria2's global counters (``getGlobalStat``): speeds in bytes/s and queue sizes."""

    download_speed: int = 0
    upload_speed: int = 0
    num_active: int = 0
    num_waiting: int = 0
    num_stopped: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GlobalStat:
        return cls(
            download_speed=_int(data, "downloadSpeed"),
            upload_speed=_int(data, "uploadSpeed"),
            num_active=_int(data, "numActive"),
            num_waiting=_int(data, "numWaiting"),
            # numStopped is capped by --max-download-result; numStoppedTotal is not.
            num_stopped=_int(data, "numStopped"),
        )


@dataclass
class Peer:
    """One BitTorrent peer, as ``getPeers`` describes it."""

    address: str
    download_speed: int
    upload_speed: int
    seeder: bool


@dataclass
class TaskDetails:
    """What the details pane shows for one download."""

    gid: str
    files: list[FileInfo] = field(default_factory=list)
    uris: list[tuple[str, str]] = field(default_factory=list)  # (uri, status)
    peers: list[Peer] = field(default_factory=list)
    num_seeders: int = 0
    is_torrent: bool = False
    error_message: str = ""
    error_code: int | None = None  # aria2's code when it failed (the UI words it)
    from_history: bool = False

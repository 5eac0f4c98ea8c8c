"""Finished downloads that aria2 forgets, kept by the app.

aria2 keeps a stopped download only in memory (and only up to
``--max-download-result``); its session file holds unfinished work. A user
who restarts the app still expects to find yesterday's completed file, or
the error that stopped a download, under Completed and Failed. So every
refresh moves finished downloads from aria2 into this store, *then* asks
aria2 to forget them: the record is on disk before aria2 lets go.

The store is one JSON file, rewritten atomically (temporary file, fsync,
``os.replace``), so a crash leaves the old or the new history, never half
of one. It is bounded: the oldest records go first. A lock makes it safe to
read from the GUI thread while the RPC worker writes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic_file import read_bytes, set_aside, write_atomic
from .json_pieces import dumps_in_pieces
from .models import DownloadInfo, FileInfo

log = logging.getLogger("aria_tray.history")

HISTORY_LIMIT = 5000
FORMAT_VERSION = 1

# aria2's error code for "removed by the user": not a failure worth keeping.
REMOVED_BY_USER = 31


@dataclass(frozen=True)
class HistoryFile:
    """One file of a finished download: where it went and where it came from."""

    path: str
    uris: tuple[str, ...] = ()
    length: int = 0
    selected: bool = True


@dataclass(frozen=True)
class HistoryRecord:
    """A finished download, as the app remembers it after aria2 forgot it."""

    gid: str
    name: str
    status: str  # "complete", "error" or "removed"
    total_length: int = 0
    dir: str = ""
    files: tuple[HistoryFile, ...] = ()
    error_code: int | None = None
    error_message: str = ""
    finished_at: float = 0.0
    info_hash: str | None = None

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files if f.path]

    @property
    def uris(self) -> list[str]:
        """Every distinct source URI, in file order."""
        return list(dict.fromkeys(uri for f in self.files for uri in f.uris))

    @classmethod
    def from_download(cls, info: DownloadInfo, finished_at: float | None = None) -> HistoryRecord:
        return cls(
            gid=info.gid,
            name=info.name,
            status=info.status,
            total_length=info.total_length,
            dir=info.dir,
            files=tuple(
                HistoryFile(f.path, tuple(f.uris), f.length, f.selected) for f in info.files
            ),
            error_code=info.error_code,
            error_message=info.error_message,
            finished_at=time.time() if finished_at is None else finished_at,
            info_hash=info.info_hash,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "gid": self.gid,
            "name": self.name,
            "status": self.status,
            "total_length": self.total_length,
            "dir": self.dir,
            "files": [
                {"path": f.path, "uris": list(f.uris), "length": f.length, "selected": f.selected}
                for f in self.files
            ],
            "error_code": self.error_code,
            "error_message": self.error_message,
            "finished_at": self.finished_at,
            "info_hash": self.info_hash,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryRecord:
        """Build from :meth:`to_json` output; raises ``ValueError``/``TypeError`` if malformed."""
        gid = data["gid"]
        if not isinstance(gid, str) or not gid:
            raise ValueError("record without a gid")
        files = tuple(
            HistoryFile(
                str(item.get("path") or ""),
                tuple(str(u) for u in item.get("uris") or ()),
                int(item.get("length") or 0),
                bool(item.get("selected", True)),
            )
            for item in data.get("files") or ()
        )
        code = data.get("error_code")
        return cls(
            gid=gid,
            name=str(data.get("name") or gid),
            status=str(data.get("status") or "complete"),
            total_length=int(data.get("total_length") or 0),
            dir=str(data.get("dir") or ""),
            files=files,
            error_code=None if code is None else int(code),
            error_message=str(data.get("error_message") or ""),
            finished_at=float(data.get("finished_at") or 0.0),
            info_hash=data.get("info_hash") or None,
        )

    def to_download(self) -> HistoryDownload:
        """The row a list view shows for this record."""
        done = self.status == "complete"
        return HistoryDownload(
            gid=self.gid,
            status=self.status,
            total_length=self.total_length,
            completed_length=self.total_length if done else 0,
            name=self.name,
            dir=self.dir,
            error_code=self.error_code,
            error_message=self.error_message,
            is_torrent=self.info_hash is not None,
            info_hash=self.info_hash,
            files=[
                FileInfo(
                    index=number,
                    path=f.path,
                    length=f.length,
                    completed_length=f.length if done else 0,
                    selected=f.selected,
                    uris=f.uris,
                )
                for number, f in enumerate(self.files, start=1)
            ],
            finished_at=self.finished_at,
        )


@dataclass
class HistoryDownload(DownloadInfo):
    """A :class:`DownloadInfo` that lives in the app's history, not in aria2."""

    finished_at: float = 0.0
    from_history: bool = field(default=True, init=False)


def should_record(info: DownloadInfo) -> bool:
    """Which stopped downloads the history keeps.

    Completed and failed ones. A magnet's metadata download is only a step
    towards the real one (which follows it), and a download the user
    removed is gone on purpose, so neither is kept.
    """
    if info.followed_by or info.is_metadata:
        return False
    if info.status in ("complete", "error"):
        return True
    return info.status == "removed" and info.error_code not in (None, 0, REMOVED_BY_USER)


class HistoryStore:
    """The bounded, durable list of finished downloads, oldest first."""

    def __init__(self, path: Path | str, limit: int = HISTORY_LIMIT) -> None:
        self.path = Path(path)
        self.limit = limit
        self._lock = threading.RLock()
        self._records: dict[str, HistoryRecord] = {}
        self._downloads: list[HistoryDownload] | None = None
        # Set when the file could be neither read nor moved aside: saving
        # would replace a history we never read, so this run keeps to memory.
        self._unsaved_reason = ""
        self._load()

    # -- reading ------------------------------------------------------------
    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __contains__(self, gid: object) -> bool:
        with self._lock:
            return gid in self._records

    def get(self, gid: str) -> HistoryRecord | None:
        with self._lock:
            return self._records.get(gid)

    def records(self) -> list[HistoryRecord]:
        """All records, oldest first."""
        with self._lock:
            return list(self._records.values())

    def downloads(self) -> list[HistoryDownload]:
        """The records as list rows. The same objects until the history changes,
        so a view can skip unchanged rows by identity."""
        with self._lock:
            if self._downloads is None:
                self._downloads = [r.to_download() for r in self._records.values()]
            return list(self._downloads)

    # -- changing -----------------------------------------------------------
    def add(self, record: HistoryRecord) -> None:
        self.merge([record])

    def merge(self, records: Iterable[HistoryRecord]) -> int:
        """Add or replace records (by gid), trim to the limit, save. Returns how many."""
        with self._lock:
            count = 0
            for record in records:
                self._records.pop(record.gid, None)  # a replaced record counts as newest
                self._records[record.gid] = record
                count += 1
            if not count:
                return 0
            self._trim()
            self._changed()
            return count

    def remove(self, gids: Iterable[str]) -> list[HistoryRecord]:
        """Forget these gids; returns the records that were there."""
        with self._lock:
            gone = [r for r in (self._records.pop(g, None) for g in gids) if r is not None]
            if gone:
                self._changed()
            return gone

    def clear(self) -> int:
        with self._lock:
            count = len(self._records)
            self._records.clear()
            self._changed()
            return count

    def _trim(self) -> None:
        excess = len(self._records) - self.limit
        if excess <= 0:
            return
        oldest = sorted(self._records.values(), key=lambda r: r.finished_at)[:excess]
        for record in oldest:
            del self._records[record.gid]

    def _changed(self) -> None:
        self._downloads = None
        self._save()

    # -- disk ---------------------------------------------------------------
    def _load(self) -> None:
        try:
            raw = read_bytes(self.path)
        except FileNotFoundError:
            return
        except OSError as exc:
            self._set_aside(f"unreadable ({exc})")
            return
        try:
            data = json.loads(raw.decode("utf-8"))
            items = data["records"] if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise ValueError("no record list")
        except (UnicodeDecodeError, ValueError, KeyError, RecursionError) as exc:
            self._set_aside(f"unreadable ({exc})")
            return
        loaded: list[HistoryRecord] = []
        for number, item in enumerate(items):
            try:
                loaded.append(HistoryRecord.from_json(item))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                log.warning("history %s: skipping record %d (%s)", self.path, number, exc)
        loaded.sort(key=lambda r: r.finished_at)
        self._records = {r.gid: r for r in loaded}
        self._trim()

    def _set_aside(self, reason: str) -> None:
        """Keep a broken file for the user to inspect rather than overwrite it.

        A file that cannot even be moved is left where it is, and this run's
        history stays in memory: a save would replace what was never read.
        """
        if not set_aside(self.path, reason):
            self._unsaved_reason = f"{self.path} is {reason} and could not be moved aside"

    def _save(self) -> None:
        if self._unsaved_reason:
            log.warning("history not saved: %s", self._unsaved_reason)
            return
        body = {
            "version": FORMAT_VERSION,
            "records": [r.to_json() for r in self._records.values()],
        }
        data = dumps_in_pieces(body).encode("ascii")  # the GIL is free between records
        write_atomic(self.path, data)

"""What the user added, and how far it got: the part of a download aria2 does not keep for us.

aria2's session file is the queue across restarts, but it falls short in
three ways, and this ledger (``<home>/engine/downloads.json``, one record
per gid) fills each gap:

* **Torrents and metalinks added over RPC.** aria2 keeps their bytes only
  by writing ``<hash>.torrent`` into the *user's* download folder
  (``rpc-save-upload-metadata``), which we turn off. Instead the app keeps a
  private copy under ``<home>/engine/metadata/`` and, before each aria2c
  start, writes an input-file entry for every such download that aria2's
  session does not hold (``aria2_core.session_restore``). aria2 loaded it from a
  file, so from then on its own session keeps it.
* **Retry.** A failed download is added again from its origin: the same
  links, ``.torrent`` or metalink, with the same options (``dir``,
  headers, file selection, ...), not a bare magnet built from an info hash.
* **Progress of paused downloads.** aria2 reports 0 of 0 for a paused
  download until it opens its files; the last progress seen is kept here
  and shown instead (:meth:`DownloadLedger.fill_progress`).

Records follow a magnet: the real download's gid (``following`` the
metadata one) inherits its record. A record goes when its download is
neither in aria2 nor in the history (:meth:`DownloadLedger.prune`), and a
private copy goes with its last record.

Written like the history: one JSON file, replaced atomically, under a
lock (the RPC worker writes, the GUI thread reads).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .atomic_file import read_bytes, set_aside, write_atomic
from .json_pieces import dumps_in_pieces
from .models import DownloadInfo, FileInfo

log = logging.getLogger("aria_tray.ledger")

FORMAT_VERSION = 1

# Origin kinds
URI = "uri"
MAGNET = "magnet"
TORRENT = "torrent"
METALINK = "metalink"
_SUFFIX = {TORRENT: ".torrent", METALINK: ".meta4"}

OptionValue = str | list[str]
# Options that may hold secrets (``header``: a browser's ``Cookie:``); a
# completed download's record drops them.
SECRET_OPTIONS = ("header",)


@dataclass(frozen=True)
class Progress:
    """How far a download got, the last time it was seen."""

    total_length: int
    completed_length: int
    files: tuple[tuple[str, int, int], ...] = ()  # (path, length, completed) per file

    @classmethod
    def of(cls, info: DownloadInfo) -> Progress:
        return cls(
            info.total_length,
            info.completed_length,
            tuple((f.path, f.length, f.completed_length) for f in info.files),
        )


@dataclass(frozen=True)
class Origin:
    """How one download was added (its links or metadata file, and its options)."""

    gid: str
    kind: str
    uris: tuple[str, ...] = ()  # URI and MAGNET
    file: str = ""  # TORRENT and METALINK: the private copy's name in the metadata folder
    options: Mapping[str, OptionValue] = field(default_factory=dict)
    paused: bool = False
    finished: bool = False  # in the history now; never restored into aria2
    progress: Progress | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "gid": self.gid,
            "kind": self.kind,
            "uris": list(self.uris),
            "file": self.file,
            "options": dict(self.options),
            "paused": self.paused,
            "finished": self.finished,
        }
        if self.progress is not None:
            p = self.progress
            data["progress"] = [p.total_length, p.completed_length, [list(f) for f in p.files]]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Origin:
        options: dict[str, OptionValue] = {}
        for key, value in dict(data.get("options") or {}).items():
            options[str(key)] = [str(v) for v in value] if isinstance(value, list) else str(value)
        raw = data.get("progress")
        progress = None
        if isinstance(raw, list) and len(raw) == 3:
            files = tuple((str(f[0]), int(f[1]), int(f[2])) for f in raw[2])
            progress = Progress(int(raw[0]), int(raw[1]), files)
        kind = str(data["kind"])
        if kind not in (URI, MAGNET, TORRENT, METALINK):
            raise ValueError(f"unknown kind {kind!r}")
        return cls(
            gid=str(data["gid"]),
            kind=kind,
            uris=tuple(str(u) for u in data.get("uris") or ()),
            file=str(data.get("file") or ""),
            options=options,
            paused=bool(data.get("paused")),
            finished=bool(data.get("finished")),
            progress=progress,
        )


class DownloadLedger:
    """The per-gid origins and last progress, in ``path``; metadata copies in ``metadata_dir``."""

    def __init__(
        self, path: Path | str, metadata_dir: Path | str, session_file: Path | None = None
    ) -> None:
        self.path = Path(path)
        self.metadata_dir = Path(metadata_dir)
        self.session_file = session_file  # its entries' copies are never deleted
        self._lock = threading.RLock()
        self._origins: dict[str, Origin] = {}
        # A file that could not be read says nothing about which copies are
        # unused, so none is deleted this run; one that could not even be
        # moved aside is never saved over (what it holds was never read).
        self._unread = False
        self._unsaved_reason = ""
        self._load()

    # -- reading ------------------------------------------------------------
    def get(self, gid: str) -> Origin | None:
        with self._lock:
            return self._origins.get(gid)

    def origins(self) -> list[Origin]:
        with self._lock:
            return list(self._origins.values())

    def metadata_path(self, origin: Origin) -> Path:
        return self.metadata_dir / origin.file

    def fill_progress(self, rows: list[DownloadInfo]) -> None:
        """Show the recorded progress where aria2 reports none yet (paused or queued).

        aria2 opens a download's files, and learns its size and progress,
        only when it starts it; until then a restored download reads 0 of 0.
        """
        with self._lock:
            for position, info in enumerate(rows):
                if info.status not in ("paused", "waiting") or info.completed_length:
                    continue
                origin = self._origins.get(info.gid)
                if (
                    origin is None
                    or origin.progress is None
                    or not origin.progress.completed_length
                ):
                    continue
                rows[position] = _with_progress(info, origin.progress)

    # -- changing -----------------------------------------------------------
    def keep_metadata(self, data: bytes, kind: str) -> str:
        """Store a private copy of a ``.torrent``/metalink; returns its file name.

        Named by the SHA-1 of its bytes, so the same file added twice is kept once.
        """
        name = hashlib.sha1(data).hexdigest() + _SUFFIX[kind]
        target = self.metadata_dir / name
        if not target.exists():
            self.metadata_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # user-only
            write_atomic(target, data)
        return name

    def record(self, origins: Iterable[Origin]) -> None:
        with self._lock:
            changed = False
            for origin in origins:
                self._origins[origin.gid] = origin
                changed = True
            if changed:
                self._save()

    def update_options(self, changes: Mapping[str, Mapping[str, str]]) -> None:
        """Remember per-download options the user changed (gid -> options), e.g. file selection."""
        with self._lock:
            changed = False
            for gid, options in changes.items():
                origin = self._origins.get(gid)
                if origin is not None and any(
                    origin.options.get(k) != v for k, v in options.items()
                ):
                    self._origins[gid] = replace(origin, options={**origin.options, **options})
                    changed = True
            if changed:
                self._save()

    def note_rows(self, rows: Iterable[DownloadInfo], everything: bool = False) -> None:
        """Follow what aria2 reports: successors, pause state, progress.

        A magnet's real download (``following`` its metadata step) inherits
        the record; so does a restored metalink, which aria2 gives a new gid
        (it ignores ``gid=`` for metalinks), found by its links. The
        progress of a paused or queued download is kept (it does not move
        until it runs again); ``everything`` also keeps the active ones' (at
        quit). Writes the file only when something changed.
        """
        rows = list(rows)
        with self._lock:
            changed = False
            adoptable: list[Origin] | None = None
            for info in rows:
                origin = self._origins.get(info.gid)
                if origin is None and info.following:
                    origin = self._origins.get(info.following)
                elif origin is None and info.files and not info.is_torrent:
                    if adoptable is None:
                        adoptable = self._adoptable({r.gid for r in rows})
                    origin = _same_links(adoptable, info)
                    if origin is not None:
                        adoptable.remove(origin)
                        del self._origins[origin.gid]
                if origin is None or info.is_finished:
                    continue
                paused = info.status == "paused"
                seen = origin.progress
                new_progress = bool(
                    (everything or info.status != "active")
                    and info.completed_length
                    and (
                        seen is None
                        or seen.completed_length != info.completed_length
                        or seen.total_length != info.total_length
                    )
                )
                missing_links = origin.kind == METALINK and not origin.uris
                if (
                    origin.gid == info.gid
                    and origin.paused == paused
                    and not new_progress
                    and not missing_links
                ):
                    continue  # the common case, 10,000 times a second: nothing to build
                updated = replace(origin, gid=info.gid, paused=paused)
                if missing_links:
                    updated = replace(updated, uris=_links_of(info))
                if new_progress:
                    updated = replace(updated, progress=Progress.of(info))
                self._origins[info.gid] = updated
                changed = True
            if changed:
                self._save()

    def _adoptable(self, live: set[str]) -> list[Origin]:
        """Metalink records whose gid aria2 no longer has (a restart gave them new ones)."""
        return [
            o
            for o in self._origins.values()
            if o.kind == METALINK and not o.finished and o.uris and o.gid not in live
        ]

    def mark_finished(self, gids: Iterable[str], completed: Iterable[str] = ()) -> None:
        """These moved into the history: keep them for Retry, never restore them.

        A ``completed`` download also loses its secret options (headers: the
        browser's cookies), which are kept no longer than aria2 needs them.
        """
        done = set(completed)
        with self._lock:
            changed = False
            for gid in gids:
                origin = self._origins.get(gid)
                if origin is None:
                    continue
                options = origin.options
                if gid in done and any(key in options for key in SECRET_OPTIONS):
                    options = {k: v for k, v in options.items() if k not in SECRET_OPTIONS}
                if not origin.finished or options is not origin.options:
                    self._origins[gid] = replace(origin, finished=True, options=options)
                    changed = True
            if changed:
                self._save()

    def forget(self, gids: Iterable[str]) -> None:
        with self._lock:
            gone = [g for g in gids if self._origins.pop(g, None) is not None]
            if gone:
                self._drop_unused_metadata()
                self._save()

    def prune(self, keep: Callable[[str], bool]) -> None:
        """Forget the records whose download ``keep`` says is gone (from aria2 and history)."""
        with self._lock:
            self.forget([g for g in self._origins if not keep(g)])

    def _drop_unused_metadata(self) -> None:
        """Delete the private copies no record uses, unless aria2's session names them."""
        if self._unread:
            return
        used = {o.file for o in self._origins.values() if o.file}
        try:
            names = [p for p in self.metadata_dir.iterdir() if p.name not in used]
        except OSError:
            return
        if names and self.session_file is not None:
            try:
                session = self.session_file.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return  # cannot tell: keep them all
            names = [p for p in names if str(p) not in session]
        for path in names:
            try:
                path.unlink()
            except OSError as exc:
                log.warning("could not delete %s: %s", path, exc)

    # -- disk ---------------------------------------------------------------
    def _load(self) -> None:
        try:
            data = json.loads(read_bytes(self.path).decode("utf-8"))
            items = data["origins"]
            if not isinstance(items, list):
                raise ValueError("no list of origins")
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            self._unread = True
            if not set_aside(self.path, f"unreadable ({exc})"):
                self._unsaved_reason = f"{self.path} could not be read or moved aside ({exc})"
            return
        for item in items:
            try:
                origin = Origin.from_json(item)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                log.warning("%s: skipping a record (%s)", self.path, exc)
                continue
            self._origins[origin.gid] = origin

    def _save(self) -> None:
        if self._unsaved_reason:
            log.warning("not saved: %s", self._unsaved_reason)
            return
        body = {"version": FORMAT_VERSION, "origins": [o.to_json() for o in self._origins.values()]}
        data = dumps_in_pieces(body).encode("ascii")  # the GIL is free between records
        try:
            write_atomic(self.path, data)
        except OSError:
            # Only restore, Retry and shown progress depend on it; the
            # downloads themselves go on. The next change writes it again.
            log.error("cannot write %s", self.path, exc_info=True)


def _links_of(info: DownloadInfo) -> tuple[str, ...]:
    return tuple(dict.fromkeys(u for f in info.files for u in f.uris))


def _same_links(candidates: list[Origin], info: DownloadInfo) -> Origin | None:
    links = set(_links_of(info))
    return next((o for o in candidates if links and links == set(o.uris)), None)


def _with_progress(info: DownloadInfo, progress: Progress) -> DownloadInfo:
    files = info.files
    if progress.files and (not files or len(files) == len(progress.files)):
        old = files or [FileInfo(n, "", 0, 0, True) for n in range(1, len(progress.files) + 1)]
        files = [
            replace(f, path=f.path or path, length=length, completed_length=done)
            for f, (path, length, done) in zip(old, progress.files, strict=True)
        ]
    filled = replace(
        info,
        total_length=progress.total_length,
        completed_length=progress.completed_length,
        files=files,
    )
    if info.name == info.gid or (files and not info.files[0].path if info.files else False):
        filled = replace(filled, name=DownloadInfo.from_status(_status_of(filled)).name)
    return filled


def _status_of(info: DownloadInfo) -> dict[str, Any]:
    """Enough of a ``tellStatus`` dict for :meth:`DownloadInfo.from_status` to name it."""
    return {
        "gid": info.gid,
        "files": [
            {"path": f.path, "uris": [{"uri": u} for u in f.uris], "index": str(f.index)}
            for f in info.files
        ],
    }

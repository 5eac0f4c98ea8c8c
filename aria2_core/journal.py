"""The link journal: the promise that a forwarded link is never lost.

Between "the primary acknowledged the second launch" and "aria2 has the link
in its saved session" there is a window in which a crash, a SIGKILL or a
power cut would silently drop the user's link. The primary closes that window
by writing the link here, fsync'd, *before* it acknowledges, and marking it
done only once aria2 has it. On start-up every entry still pending is handed
to aria2 again. A duplicate download is a nuisance; a lost link is a bug.

The file is append-only JSON lines, so a crash can at worst tear the last
line, which the reader skips. A line is written whole and fsync'd before
:meth:`LinkJournal.append` returns; a short write (a full disk) is undone and
raised, never acknowledged. :meth:`LinkJournal.compact` rewrites the file
atomically to drop finished entries.

A ``.torrent`` or ``.metalink`` is a *file*, and browsers delete their
temporary downloads right after handing them over. So its bytes are copied
into ``journal-files/<entry id>/`` beside the journal, durably, before the
entry is written, and the copy is what aria2 gets; it goes once the entry is done.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic_file import PRIVATE_MODE, fsync_dir, read_bytes, write_atomic
from .errors import LinkError
from .links import LinkKind, is_remote, parse_link

log = logging.getLogger("aria_tray.journal")

# An append's key is a request id as our clients make them (uuid4 hex), with a
# batch number; anything else is no key. It names a folder under journal-files/.
_KEY = re.compile(r"[0-9a-f]{32}(?:-[0-9]{1,5})?")
FINISHED_KEPT = 1000  # done entries remembered for a request sent again
_SAME, _OTHER = "same", "other"


@dataclass(frozen=True)
class JournalEntry:
    """One accepted batch of links, as it was written."""

    id: str
    items: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    ts: float = 0.0
    # item -> private copy of that .torrent/.metalink, kept in the app home
    files: dict[str, str] = field(default_factory=dict)

    @property
    def sources(self) -> tuple[str, ...]:
        """What to hand to aria2: the items, with each kept file's private copy."""
        return tuple(self.files.get(item, item) for item in self.items)


def _encode_line(obj: dict[str, Any]) -> bytes:
    # ensure_ascii: undecodable file names (surrogateescape) survive the trip.
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


class LinkJournal:
    """Append-only, fsync'd JSON-lines journal of links not yet safe in aria2.

    Only the primary instance writes it; a lock serialises threads within it.
    Creating the parent folder is the caller's job (``AppPaths.ensure()``).
    """

    # Larger files are journaled by path only (aria2 refuses such requests anyway).
    MAX_KEPT_FILE_BYTES = 32 * 1024 * 1024

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.files_dir = self.path.parent / f"{self.path.stem}-files"
        # Serialises writes to the file (each holds it through its fsync).
        self._lock = threading.Lock()
        # Guards the in-memory pending entries only, so a reader on the GUI
        # thread never waits for another thread's fsync.
        self._state_lock = threading.Lock()
        # The pending entries, read from disk once and then kept in step with
        # every write: the primary (which holds the instance lock) is the only
        # writer, and it asks for them on every drain and every --status.
        self._pending: dict[str, JournalEntry] | None = None
        # The latest done entries, oldest first, for keyed appends sent again.
        self._finished: dict[str, JournalEntry] = {}

    # -- writing ------------------------------------------------------------
    def append(
        self,
        items: list[str],
        options: Mapping[str, Any] | None = None,
        source: str = "",
        key: str = "",
    ) -> str:
        """Record a batch durably and return its id.

        When this returns, the entry is on disk (fsync), so the caller may
        acknowledge the link to whoever sent it.

        ``key`` makes the append idempotent: it is the id of a request its
        sender may make again (a launch whose ``open`` got no answer retries,
        or becomes the primary itself with the same links). It becomes the
        entry's id, and an entry already known by it (pending, or done since
        the file was last compacted) with the same items and options is the
        answer: nothing is written twice. A key reused for other links is
        ignored (a fresh id, both kept): a link is never dropped for it.
        """
        if isinstance(items, str) or not items or not all(isinstance(i, str) for i in items):
            raise ValueError("journal items must be a non-empty list of strings")
        wanted = (tuple(items), dict(options or {}))
        key = key if _KEY.fullmatch(key) else ""
        if key:
            with self._lock:
                known = self._known_as(key, wanted)
            if known == _SAME:
                return key
            if known == _OTHER:
                key = ""
        entry_id = key or uuid.uuid4().hex
        files = self._keep_files(entry_id, items)
        entry = JournalEntry(
            id=entry_id,
            items=wanted[0],
            options=wanted[1],
            source=source,
            ts=time.time(),
            files=files,
        )
        try:
            with self._lock:
                if key and self._known_as(key, wanted) == _SAME:  # written meanwhile
                    self._drop_files(entry_id)
                    return key
                self._append_line(_encode_line(_entry_record(entry)))
                with self._state_lock:  # in file order: appends are serialised by _lock
                    if self._pending is not None:
                        self._pending[entry.id] = entry
        except BaseException:
            self._drop_files(entry_id)
            raise
        return entry.id

    def _known_as(self, key: str, wanted: tuple[tuple[str, ...], dict[str, Any]]) -> str:
        """Whether an entry keyed ``key`` holds ``wanted`` (items, options): :data:`_SAME`,
        :data:`_OTHER` links, or "" (none known); the caller holds ``self._lock``."""
        known = self._loaded().get(key) or self._finished.get(key)
        if known is None:
            return ""
        if (known.items, known.options) == wanted:
            log.info("journal: entry %s is here already (a request sent again)", key)
            return _SAME
        log.warning("journal: id %s came again with other links; keeping both", key)
        return _OTHER

    def _keep_files(self, entry_id: str, items: list[str]) -> dict[str, str]:
        """Copy each .torrent/.metalink item into the app home, durably.

        An item that is not such a file, or cannot be read, is journaled as
        it is: the drain reports it like any other bad link. A failure to
        *write* the copy (a full disk) is raised, so the batch is refused.
        """
        kept: dict[str, str] = {}
        for item in items:
            if is_remote(item):  # most of a big drop: no need to parse it twice
                continue
            try:
                link = parse_link(item)
            except LinkError:
                continue
            if link.kind not in (LinkKind.TORRENT, LinkKind.METALINK) or item in kept:
                continue
            try:
                if os.path.getsize(link.value) > self.MAX_KEPT_FILE_BYTES:
                    continue
                data = Path(link.value).read_bytes()
            except OSError as exc:
                log.info("journal: cannot keep a copy of %s (%s)", link.value, exc)
                continue
            folder = self.files_dir / entry_id
            try:
                for made in (self.files_dir, folder):
                    made.mkdir(mode=0o700, exist_ok=True)
                copy = folder / f"{len(kept)}-{os.path.basename(link.value)}"
                write_atomic(copy, data)
            except BaseException:
                self._drop_files(entry_id)
                raise
            kept[item] = str(copy)
        return kept

    def _drop_files(self, entry_id: str) -> None:
        shutil.rmtree(self.files_dir / entry_id, ignore_errors=True)

    def mark_done(self, *entry_ids: str) -> None:
        """Record durably that aria2 now holds these entries' links (one fsync for all)."""
        if not entry_ids:
            return
        with self._lock:
            self._append_line(b"".join(_encode_line({"done": i}) for i in entry_ids))
            with self._state_lock:
                if self._pending is not None:
                    for entry_id in entry_ids:
                        self._remember_finished(self._pending.pop(entry_id, None))
        for entry_id in entry_ids:
            self._drop_files(entry_id)

    def _append_line(self, line: bytes) -> None:
        """Append one whole line durably, or nothing; the caller holds ``self._lock``.

        ``os.write`` may write only part of a line (a full disk, a signal).
        The rest is written in a loop; if that fails, or fsync does, the file
        is cut back to its old size and the error raised, so a line is never
        acknowledged torn, and the next one never lands glued to a torn one.
        """
        created = not self.path.exists()
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
        fd = os.open(self.path, flags, PRIVATE_MODE)
        try:
            if sys.platform != "win32":
                os.fchmod(fd, PRIVATE_MODE)
            # A crash may have torn the last line. Without this newline the
            # new entry would be glued onto the torn one and lost with it.
            size = os.fstat(fd).st_size
            if size:
                os.lseek(fd, size - 1, os.SEEK_SET)  # O_APPEND still writes at the end
                if os.read(fd, 1) != b"\n":
                    line = b"\n" + line
            try:
                _write_all(fd, line)
                os.fsync(fd)
            except OSError as exc:
                _truncate_quietly(fd, size)
                raise _named_if_disk_full(exc, self.path.parent) from exc
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.path.parent)

    # -- reading ------------------------------------------------------------
    def pending(self) -> list[JournalEntry]:
        """Entries not marked done, oldest first; broken lines are skipped and logged.

        Once loaded, this takes only the state lock: it never waits for an
        append or a done-marker being fsync'd on another thread.
        """
        with self._state_lock:
            if self._pending is not None:
                return list(self._pending.values())
        with self._lock:  # the first read: no write may slip in between read and keep
            return list(self._loaded().values())

    def _loaded(self) -> dict[str, JournalEntry]:
        """The pending entries, read from the file once; the caller holds ``self._lock``."""
        with self._state_lock:
            if self._pending is None:
                self._pending = {entry.id: entry for entry in self._read_pending()}
            return self._pending

    def _remember_finished(self, entry: JournalEntry | None) -> None:
        """Keep a done entry's content a while: a retry of its request must find it."""
        if entry is None:
            return
        self._finished[entry.id] = entry
        while len(self._finished) > FINISHED_KEPT:
            del self._finished[next(iter(self._finished))]

    def _read_pending(self) -> list[JournalEntry]:
        try:
            data = read_bytes(self.path)
        except FileNotFoundError:
            return []
        entries: dict[str, JournalEntry] = {}
        done: set[str] = set()
        lines = data.split(b"\n")
        torn_tail = not data.endswith(b"\n")
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            is_last = number == len(lines)
            parsed = self._parse_line(raw, number, torn=torn_tail and is_last)
            if parsed is None:
                continue
            if isinstance(parsed, str):
                done.add(parsed)
            elif parsed.id not in entries:
                entries[parsed.id] = parsed
        for key in done & entries.keys():
            self._remember_finished(entries[key])
        return [entry for key, entry in entries.items() if key not in done]

    def _parse_line(self, raw: bytes, number: int, *, torn: bool) -> JournalEntry | str | None:
        """An entry, a done-marker id, or None (logged) for a line we cannot use."""
        what = "torn last line" if torn else "garbage line"
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            log.warning("journal %s: skipping %s %d (%s)", self.path, what, number, exc)
            return None
        if isinstance(obj, dict) and set(obj) == {"done"} and isinstance(obj["done"], str):
            return obj["done"]
        entry = _entry_from(obj)
        if entry is None:
            log.warning("journal %s: skipping %s %d (not a record)", self.path, what, number)
        return entry

    # -- maintenance --------------------------------------------------------
    def compact(self) -> int:
        """Atomically rewrite the file with only pending entries; return how many.

        The new content goes to a temporary file in the same folder, is
        fsync'd, then renamed over the journal, so a crash leaves either the
        old or the new file, never a mix.
        """
        with self._lock:
            keep = list(self._loaded().values())
            self._drop_stray_files({e.id for e in keep})
            if not keep and not self.path.exists():
                return 0
            self._rewrite(_encode_line(_entry_record(e)) for e in keep)
            return len(keep)

    def _drop_stray_files(self, pending_ids: set[str]) -> None:
        """Remove kept copies whose entry is done (a crash between done and removal)."""
        try:
            folders = list(self.files_dir.iterdir())
        except OSError:
            return
        for folder in folders:
            if folder.name not in pending_ids:
                shutil.rmtree(folder, ignore_errors=True)

    def _rewrite(self, lines: Iterable[bytes]) -> None:
        write_atomic(self.path, b"".join(lines))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def _named_if_disk_full(exc: OSError, folder: Path) -> OSError:
    """``exc``, or ENOSPC when the disk is full but ``exc`` says something else.

    What the user reads is the error's words. Under Wine 8 an append to a
    full disk fails with EEXIST ("File exists", the disk-full e2e test saw
    it); "No space left on device" is what the user must be told.
    """
    if exc.errno == errno.ENOSPC:
        return exc
    try:
        full = shutil.disk_usage(folder).free == 0
    except OSError:
        return exc
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) if full else exc


def _truncate_quietly(fd: int, size: int) -> None:
    """Undo a partial append; the original error is the one worth raising."""
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    except OSError as exc:
        log.error("journal: could not undo a partial write: %s", exc)


def _entry_record(entry: JournalEntry) -> dict[str, Any]:
    record = {
        "id": entry.id,
        "items": list(entry.items),
        "options": entry.options,
        "source": entry.source,
        "ts": entry.ts,
    }
    if entry.files:
        record["files"] = entry.files
    return record


def _entry_from(obj: Any) -> JournalEntry | None:
    """Build an entry from a parsed line, or None if it is not a well-formed one."""
    if not isinstance(obj, dict):
        return None
    entry_id, items = obj.get("id"), obj.get("items")
    options, source, ts = obj.get("options", {}), obj.get("source", ""), obj.get("ts", 0.0)
    if not isinstance(entry_id, str) or not entry_id:
        return None
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        return None
    if not isinstance(options, dict) or not isinstance(source, str):
        return None
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        return None
    files = obj.get("files", {})
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        return None
    return JournalEntry(
        id=entry_id, items=tuple(items), options=options, source=source, ts=ts, files=files
    )

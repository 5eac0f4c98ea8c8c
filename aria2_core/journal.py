"""The link journal: the promise that a forwarded link is never lost.

Between "the primary acknowledged the second launch" and "aria2 has the link
in its saved session" there is a window in which a crash, a SIGKILL or a
power cut would silently drop the user's link. The primary closes that window
by writing the link here, fsync'd, *before* it acknowledges, and marking it
done only once aria2 has it. On start-up every entry still pending is handed
to aria2 again. A duplicate download is a nuisance; a lost link is a bug.

The file is append-only JSON lines, so a crash can at worst tear the last
line, which the reader skips. :meth:`LinkJournal.compact` rewrites it
atomically to drop finished entries.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic_file import PRIVATE_MODE, fsync_dir, write_atomic

log = logging.getLogger("aria_tray.journal")


@dataclass(frozen=True)
class JournalEntry:
    """One accepted batch of links, as it was written."""

    id: str
    items: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    ts: float = 0.0


def _encode_line(obj: dict[str, Any]) -> bytes:
    # ensure_ascii: undecodable file names (surrogateescape) survive the trip.
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


class LinkJournal:
    """Append-only, fsync'd JSON-lines journal of links not yet safe in aria2.

    Only the primary instance writes it; a lock serialises threads within it.
    Creating the parent folder is the caller's job (``AppPaths.ensure()``).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # The pending entries, read from disk once and then kept in step with
        # every write: the primary (which holds the instance lock) is the only
        # writer, and it asks for them on every drain and every --status.
        self._pending: dict[str, JournalEntry] | None = None

    # -- writing ------------------------------------------------------------
    def append(
        self, items: list[str], options: dict[str, Any] | None = None, source: str = ""
    ) -> str:
        """Record a batch durably and return its id.

        When this returns, the entry is on disk (fsync), so the caller may
        acknowledge the link to whoever sent it.
        """
        if isinstance(items, str) or not items or not all(isinstance(i, str) for i in items):
            raise ValueError("journal items must be a non-empty list of strings")
        entry = JournalEntry(
            id=uuid.uuid4().hex,
            items=tuple(items),
            options=dict(options or {}),
            source=source,
            ts=time.time(),
        )
        with self._lock:
            self._append_line(_encode_line(_entry_record(entry)))
            if self._pending is not None:
                self._pending[entry.id] = entry
        return entry.id

    def mark_done(self, entry_id: str) -> None:
        """Record durably that aria2 now holds the entry's links."""
        with self._lock:
            self._append_line(_encode_line({"done": entry_id}))
            if self._pending is not None:
                self._pending.pop(entry_id, None)

    def _append_line(self, line: bytes) -> None:
        """Append one line durably; the caller holds ``self._lock``."""
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
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.path.parent)

    # -- reading ------------------------------------------------------------
    def pending(self) -> list[JournalEntry]:
        """Entries not marked done, oldest first; broken lines are skipped and logged."""
        with self._lock:
            return list(self._loaded().values())

    def _loaded(self) -> dict[str, JournalEntry]:
        if self._pending is None:
            self._pending = {entry.id: entry for entry in self._read_pending()}
        return self._pending

    def _read_pending(self) -> list[JournalEntry]:
        try:
            data = self.path.read_bytes()
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
            if not keep and not self.path.exists():
                return 0
            self._rewrite(_encode_line(_entry_record(e)) for e in keep)
            return len(keep)

    def _rewrite(self, lines: Iterable[bytes]) -> None:
        write_atomic(self.path, b"".join(lines))


def _entry_record(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "items": list(entry.items),
        "options": entry.options,
        "source": entry.source,
        "ts": entry.ts,
    }


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
    return JournalEntry(id=entry_id, items=tuple(items), options=options, source=source, ts=ts)

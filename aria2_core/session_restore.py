"""Before aria2c starts: put back into its session what aria2 could not keep itself.

aria2 saves every download in its session file, except one added from
bytes over RPC (a ``.torrent`` or metalink, with ``rpc-save-upload-metadata``
off, which the app needs so that aria2 writes no ``<hash>.torrent`` into the
user's folder). The ledger (``aria2_core.ledger``) keeps a private copy of
each and its options, and :func:`restore_into_session` appends an
input-file entry for every one the session lacks: loaded from a file, aria2
then saves it like any other.

It also moves the copies an older Aria Tray let aria2 write into download
folders (``<sha1 of the bytes>.torrent`` / ``.meta4``, named in the
session) into the app home, rewriting their session entries, and points a
magnet's entry at the metadata the app kept for it
(:func:`keep_magnet_metadata`, run on every refresh).

Runs from ``config.ensure_session_file``, while no aria2c runs: nothing
else writes the session file then.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from .atomic_file import write_atomic
from .config import has_control_character
from .ledger import MAGNET, METALINK, TORRENT, DownloadLedger, Origin
from .models import DownloadInfo
from .paths import AppPaths
from .session_scan import AUTO_COPY

log = logging.getLogger("aria_tray.ledger")

_FILE_KINDS = (TORRENT, METALINK)


def restore_entries(ledger: DownloadLedger, session_text: str) -> str:
    """Input-file entries for the torrents and metalinks aria2's session lacks.

    aria2 does not save a download added from bytes over RPC; everything
    else it saves itself. Each entry names our private copy, the gid (so
    the row and its records stay the same), its options and its pause state.
    """
    present = {
        line.strip()[4:] for line in session_text.splitlines() if line.strip().startswith("gid=")
    }
    lines: list[str] = []
    for origin in ledger.origins():
        if origin.kind not in _FILE_KINDS or origin.finished or origin.gid in present:
            continue
        path = ledger.metadata_path(origin)
        if not path.is_file():
            log.warning("cannot restore %s: %s is gone", origin.gid, path)
            continue
        entry = [str(path), f" gid={origin.gid}"]
        if origin.paused:
            entry.append(" pause=true")
        for key, value in origin.options.items():
            if key in ("gid", "pause"):
                continue
            for item in value if isinstance(value, list) else [value]:
                entry.append(f" {key}={item}")
        if any(has_control_character(line) for line in entry):
            log.warning("cannot restore %s: a value does not fit on one line", origin.gid)
            continue
        lines += entry
    return "".join(line + "\n" for line in lines)


def restore_into_session(paths: AppPaths) -> int:
    """Move old copies home, then append what the session lacks. Returns the lines added."""
    if not paths.session_file.exists():
        return 0
    ledger = DownloadLedger(paths.ledger_file, paths.metadata_dir)
    session = paths.session_file.read_text(encoding="utf-8", errors="surrogateescape")
    adopted, moved = adopt_copies(ledger, session)
    extra = restore_entries(ledger, adopted)
    if not extra and adopted is session:
        return 0
    session = adopted
    if session and not session.endswith("\n"):
        session += "\n"
    write_atomic(paths.session_file, (session + extra).encode("utf-8", errors="surrogateescape"))
    for old in moved:  # only once the session no longer names them
        try:
            old.unlink()
        except OSError as exc:
            log.warning("could not delete aria2's copy %s: %s", old, exc)
    if moved:
        log.info(
            "moved %d torrent/metalink copies from download folders into the app home", len(moved)
        )
    if extra:
        log.info(
            "restored %d line(s) of torrents and metalinks into the session", extra.count("\n")
        )
    return extra.count("\n")


def keep_magnet_metadata(ledger: DownloadLedger, rows: Iterable[DownloadInfo]) -> None:
    """Move a magnet's metadata, which aria2 saved as ``<dir>/<info hash>.torrent``, home.

    Its record becomes a torrent's (kind, private copy): the next start
    then loads the download from the copy (:func:`adopt_copies`), with its
    files and progress at once, instead of asking peers for the metadata
    of a download that may be complete. Only a file whose info dictionary
    really has that hash is taken.
    """
    for info in rows:
        if not (info.following and info.info_hash and info.dir) or info.is_metadata:
            continue
        origin = ledger.get(info.gid)
        if origin is None or origin.kind != MAGNET:
            continue
        path = Path(info.dir) / f"{info.info_hash.lower()}.torrent"
        try:
            data = path.read_bytes()
        except OSError:
            continue
        span = info_dictionary(data)
        if span is None or hashlib.sha1(span).hexdigest() != info.info_hash.lower():
            continue
        try:
            name = ledger.keep_metadata(data, TORRENT)
        except OSError as exc:
            log.warning("cannot keep the metadata of %s: %s", info.gid, exc)
            continue
        ledger.record([replace(origin, kind=TORRENT, file=name)])
        try:
            path.unlink()
        except OSError as exc:
            log.warning("could not delete aria2's copy %s: %s", path, exc)


def info_dictionary(data: bytes) -> bytes | None:
    """The raw bytes of a torrent's ``info`` value (what its info hash is the SHA-1 of)."""

    def end(i: int) -> int:  # the index just after the bencoded value starting at i
        kind = data[i : i + 1]
        if kind == b"i":
            return data.index(b"e", i) + 1
        if kind in (b"l", b"d"):
            i += 1
            while data[i : i + 1] != b"e":
                i = end(i)
            return i + 1
        colon = data.index(b":", i)
        return colon + 1 + int(data[i:colon])

    try:
        if data[:1] != b"d":
            return None
        i = 1
        while data[i : i + 1] != b"e":
            key_end = end(i)
            value_end = end(key_end)
            if data[data.index(b":", i) + 1 : key_end] == b"info":
                return data[key_end:value_end]
            i = value_end
    except (ValueError, IndexError, RecursionError):
        return None
    return None


def adopt_copies(ledger: DownloadLedger, session: str) -> tuple[str, list[Path]]:
    """Session text naming our private copies instead of aria2's own in download folders.

    An entry qualifies only when its file is named by the SHA-1 of its own
    bytes (what ``rpc-save-upload-metadata`` wrote), so a ``.torrent`` the
    user keeps there is never touched. Each gets a ledger record (its gid,
    options and pause state, read from its entry) so the copy is kept, and
    an entry without ``dir=`` gets the folder aria2 wrote the copy into
    (the download's own), so it no longer follows the default folder.
    Returns the new text and the files it replaced (to delete once written).
    """
    blocks: list[list[str]] = []
    for line in session.splitlines():
        if line[:1] in (" ", "\t") and blocks:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    moved: list[Path] = []
    records: list[Origin] = []
    pointed = False
    for block in blocks:
        if block[0].startswith("magnet:"):
            pointed = _point_at_copy(ledger, block) or pointed
            continue
        found = _auto_copy(block[0])
        if found is None:
            continue
        path, kind, data = found
        options: dict[str, str | list[str]] = {}
        for line in block[1:]:
            key, sep, value = line.strip().partition("=")
            if sep:
                old = options.get(key)
                options[key] = (
                    value if old is None else [*([old] if isinstance(old, str) else old), value]
                )
        gid, paused = options.pop("gid", ""), options.pop("pause", "") == "true"
        try:
            name = ledger.keep_metadata(data, kind)
        except OSError as exc:
            log.warning("cannot keep a copy of %s: %s", path, exc)
            continue
        block[0] = str(ledger.metadata_dir / name)
        if "dir" not in options:  # an old entry: aria2 wrote the copy into its folder
            options["dir"] = str(path.parent)
            block.append(f" dir={path.parent}")
        moved.append(path)
        if isinstance(gid, str) and gid and ledger.get(gid) is None:
            records.append(Origin(gid, kind, file=name, options=options, paused=paused))
    if not moved and not pointed:
        return session, []
    ledger.record(records)
    return "".join(line + "\n" for block in blocks for line in block), moved


def _point_at_copy(ledger: DownloadLedger, block: list[str]) -> bool:
    """A magnet entry whose metadata the app kept loads from that copy instead.

    aria2 saves a magnet's download under the gid of its metadata step; the
    record (and the row the user saw) has the real download's gid, so the
    entry takes that gid too.
    """
    magnet = block[0].strip()
    candidates = [
        o
        for o in ledger.origins()
        if o.kind == TORRENT and o.file and not o.finished and magnet in o.uris
    ]
    if not candidates:
        return False
    origin = candidates[-1]
    path = ledger.metadata_path(origin)
    if not path.is_file():
        return False
    block[0] = str(path)
    block[1:] = [line for line in block[1:] if not line.strip().startswith("gid=")]
    block.insert(1, f" gid={origin.gid}")
    return True


def _auto_copy(line: str) -> tuple[Path, str, bytes] | None:
    """``(path, kind, bytes)`` when ``line`` names a copy aria2 wrote itself."""
    match = AUTO_COPY.match(Path(line).name) if "\t" not in line else None
    if match is None or not Path(line).is_absolute():
        return None
    path = Path(line)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha1(data).hexdigest() != match.group(1):
        return None
    return path, TORRENT if match.group(2) == "torrent" else METALINK, data

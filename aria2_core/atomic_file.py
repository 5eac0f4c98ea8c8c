"""One way to write a file so that a crash leaves either the old or the new one.

Used for everything Aria Tray must not half-write: the private aria2c
config (it holds the RPC secret), the ownership record, the history, the
compacted link journal and the desktop files ``--register`` writes. The
data goes to a temporary file in the same folder, created user-only (0600)
from the first byte, is fsync'd, renamed
over the target, and the folder is fsync'd so the rename itself survives a
power cut. Files remade at every start skip the two fsyncs
(``durable=False``): a start would otherwise wait for the disk several
times before aria2c is launched.

On Windows another process holding the file (an antivirus, an indexer, a
second process of ours reading it) makes the rename, or a read during the
rename, fail for a moment; both wait that out (:func:`read_bytes`).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

PRIVATE_MODE = 0o600
# How long a replace or a read waits for another process to let go of the
# file. Windows only: a scanner or indexer holds a new file for milliseconds,
# seldom for more than a second; a file denied for longer is an error.
SHARING_WAIT_S = 2.0

# A temporary write_atomic left when its process died between creating and
# renaming it is removed by the next start once it is this old: no write
# lasts that long, so no writer, in this process or another, is still at it.
STALE_TEMPORARY_S = 600.0
# mkstemp's names: the prefix we give, 8 characters of its own, the suffix.
_TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")

_T = TypeVar("_T")
log = logging.getLogger("aria_tray.atomic_file")


def _through_sharing(action: Callable[[], _T]) -> _T:
    """``action()``, retried on Windows while it fails for a file someone holds open.

    Windows refuses to rename over a file opened without ``FILE_SHARE_DELETE``
    (Python's own ``open`` shares no delete), and to open a file that is being
    replaced, both as ``PermissionError`` (ERROR_ACCESS_DENIED or
    ERROR_SHARING_VIOLATION). Neither says whether it will pass, so it is
    retried with backoff until :data:`SHARING_WAIT_S` is up, then raised.
    """
    if sys.platform != "win32":
        return action()
    deadline = time.monotonic() + SHARING_WAIT_S
    pause = 0.001
    while True:
        try:
            return action()
        except PermissionError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


def fsync_dir(folder: Path) -> None:
    """Make a creation or rename in ``folder`` durable; a no-op on Windows."""
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(
    path: Path, data: bytes, mode: int | None = PRIVATE_MODE, durable: bool = True
) -> None:
    """Replace ``path`` with ``data``, atomically and (by default) durably.

    ``mode`` is private (0600) by default. ``None`` is for files that belong to
    the desktop rather than to us (a ``.desktop`` entry, ``mimeapps.list``):
    an existing file keeps its permissions, a new one gets 0644.

    ``durable=False`` skips both fsyncs: still all-or-nothing for every reader
    while the system runs, but a power cut may leave the old file, or an empty
    one. Only for files the app makes again before it needs them, or that mean
    nothing after a reboot (see :func:`aria2_core.config.write_private_file`).
    """
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600 already; the name is unique per writer.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if sys.platform != "win32":
            os.chmod(tmp_name, mode)
        _through_sharing(lambda: os.replace(tmp_name, path))
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    if durable:
        fsync_dir(folder)


def read_bytes(path: Path) -> bytes:
    """The bytes of a file we replace with :func:`write_atomic`.

    On Windows, an open in the instant another process renames over the file
    answers ``PermissionError``; so does one while an antivirus holds it
    exclusively. That passes, and a reader that took it for "unreadable" would
    start over from nothing (and save nothing back over the file). So the read
    waits it out, a bounded while. ``FileNotFoundError`` is never retried.
    """
    return _through_sharing(path.read_bytes)


def set_aside(path: Path, reason: str) -> bool:
    """Move a file we cannot use to ``<name>.broken-<time>`` beside it, for the user.

    A store that cannot read its file must not save over it: what it could
    not read may be all the user had. Returns False (logged) when the file
    cannot be moved either; the caller must then leave it alone.
    """
    target = path.with_name(f"{path.name}.broken-{int(time.time())}")
    log.warning("%s is %s; moving it to %s", path, reason, target)
    try:
        _through_sharing(lambda: os.replace(path, target))
    except OSError as exc:
        log.warning("could not move %s aside (%s): it is left as it is", path, exc)
        return False
    return True


def remove_stale_temporaries(
    folders: tuple[Path, ...], older_than_s: float = STALE_TEMPORARY_S
) -> list[Path]:
    """Remove what :func:`write_atomic` left in ``folders`` when a crash cut it short.

    Only names of its making (``.<name>.<8 random>.tmp``) older than
    ``older_than_s`` go. Such a file may be a copy of the aria2c conf, secret
    included, so it must not linger. Returns what was removed; a file that
    cannot be removed is logged and left.
    """
    removed: list[Path] = []
    oldest_kept = time.time() - older_than_s
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # not made yet, or unreadable: nothing of ours to sweep
        for entry in entries:
            if not _TEMPORARY.fullmatch(entry.name):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if entry.stat(follow_symlinks=False).st_mtime > oldest_kept:
                    continue
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("could not remove a temporary left by a crash, %s: %s", entry.path, exc)
                continue
            removed.append(Path(entry.path))
    if removed:
        log.info("removed %d temporaries left by a crash mid-write", len(removed))
    return removed

"""One way to write a file so that a crash leaves either the old or the new one.

Used for everything Aria Tray must not half-write: the private aria2c
config (it holds the RPC secret), the ownership record, the history, the
compacted link journal and the desktop files ``--register`` writes. The
data goes to a temporary file in the same folder, created user-only (0600)
from the first byte, is fsync'd, renamed
over the target, and the folder is fsync'd so the rename itself survives a
power cut.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

PRIVATE_MODE = 0o600


def fsync_dir(folder: Path) -> None:
    """Make a creation or rename in ``folder`` durable; a no-op on Windows."""
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int | None = PRIVATE_MODE) -> None:
    """Replace ``path`` with ``data``, atomically and durably.

    ``mode`` is private (0600) by default. ``None`` is for files that belong to
    the desktop rather than to us (a ``.desktop`` entry, ``mimeapps.list``):
    an existing file keeps its permissions, a new one gets 0644.
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
            os.fsync(handle.fileno())
        if sys.platform != "win32":
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(folder)

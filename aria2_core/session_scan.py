"""Whether a session needs the restore at all, decided without importing it.

``config.ensure_session_file`` runs before every launch of aria2c, on the
critical path of start-up (issue 11). The restore
(:mod:`aria2_core.session_restore`) imports the ledger and the download
models: 10-18 ms before aria2c could start, measured A/B. It can only act when
the ledger file exists (its records are what it puts back, and what magnet
entries are pointed at) or when an entry names a copy aria2 wrote itself into
a download folder (:data:`AUTO_COPY`, which it moves into the app home). A
user who never added a torrent, metalink or magnet has neither.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from .paths import AppPaths

# What aria2 names the .torrent/.meta4 it saves itself: the SHA-1 of its bytes.
AUTO_COPY = re.compile(r"^([0-9a-f]{40})\.(torrent|meta4)$")


def restore_may_act(paths: AppPaths) -> bool:
    """False only when the restore has certainly nothing to do for ``paths``."""
    if paths.ledger_file.exists():
        return True
    try:
        session = paths.session_file.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        return False
    except OSError:
        return True  # let the restore meet (and log) the error
    return any(AUTO_COPY.match(PurePath(line.strip()).name) for line in session.splitlines())

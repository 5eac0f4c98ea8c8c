"""Is the app home usable by *this* user? If not, say exactly what to fix.

``sudo aria-tray`` keeps the user's HOME on many systems, so a run as root
used to write root-owned ``journal.jsonl``, ``session.txt``,
``instance.lock`` … into the user's app home. The user's next run then met
raw ``PermissionError`` tracebacks, or a lock it could never take. The
rules, checked before anything is written:

* A run as root (POSIX) refuses an app home that belongs to another user,
  and one that does not exist yet below a folder of another user's: it
  would leave root-owned files there. It says whom to run as, or how to
  give root a home of its own. Nothing is created.
* Any run refuses a home, or a file or folder we write in it, that belongs
  to someone else, naming each one and the ``chown`` that fixes it.
* A folder where a file of ours belongs (or a file where a folder
  belongs) is named, with the ``mv`` that moves it away.

Only the names the app itself writes are judged; a user's own files in the
home are none of our business. Windows has no uids: there only the
file-versus-folder checks apply.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from .errors import AriaTrayError
from .paths import AppPaths


class HomeError(AriaTrayError):
    """The app home cannot be used by this user as it is; the message says why and how."""


def _owner_name(uid: int) -> str:
    if sys.platform == "win32":
        return f"uid {uid}"
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def our_files(paths: AppPaths) -> list[Path]:
    """Files the app writes in its home (their folders: :func:`our_folders`)."""
    return [
        paths.lock_file,
        paths.lock_file.with_name(paths.lock_file.name + ".guard"),
        paths.journal_file,
        paths.history_file,
        paths.settings_file,
        paths.ledger_file,
        paths.conf_file,
        paths.session_file,
        paths.dht_file,
        paths.ownership_file,
        paths.ownership_lock,
        paths.log_dir / "aria-tray.log",
    ]


def our_folders(paths: AppPaths) -> list[Path]:
    return [paths.home, paths.engine_dir, paths.log_dir]


def _quoted(path: Path) -> str:
    return shlex.quote(str(path))


def check_root_run(paths: AppPaths) -> None:
    """As root, refuse a home that is, or would be created below, another user's."""
    if sys.platform == "win32" or os.geteuid() != 0:
        return
    existing = _nearest_existing(paths.home)
    try:
        owner = existing.stat().st_uid
    except OSError:
        return
    if owner == 0:
        return
    name = _owner_name(owner)
    what = "belongs to" if existing == paths.home else f"would be created inside {existing}, of"
    raise HomeError(
        f"Aria Tray is running as root, but its app home {paths.home} {what} {name}. "
        f"Running it as root would leave files there that {name}'s Aria Tray could not use. "
        f"Run it as {name} (without sudo), or give root a home of its own, for example "
        f"ARIA_TRAY_HOME=/root/.local/share/aria-tray."
    )


def problems(paths: AppPaths) -> list[str]:
    """What in the home stops this user from running; empty when all is well."""
    found: list[str] = []
    foreign: list[Path] = []
    me: int | None = None  # Windows: ownership is not judged by uid
    if sys.platform != "win32":
        me = os.geteuid()

    def judge(path: Path, folder: bool) -> None:
        try:
            st = path.lstat()
        except FileNotFoundError:
            return
        except OSError as exc:
            found.append(f"{path} cannot be examined: {exc.strerror or exc}")
            return
        is_dir = path.is_dir() and not path.is_symlink()
        if folder and not is_dir:
            found.append(
                f"{path} should be a folder but is a file: move it away "
                f"(mv {_quoted(path)} {_quoted(path)}.bak)"
            )
        elif not folder and is_dir:
            found.append(
                f"{path} should be a file but is a folder: move it away "
                f"(mv {_quoted(path)} {_quoted(path)}.bak)"
            )
        if me is not None and me != 0 and st.st_uid != me:
            foreign.append(path)

    for folder in our_folders(paths):
        judge(folder, folder=True)
    for file in our_files(paths):
        judge(file, folder=False)
    if foreign and me is not None:
        owners = sorted({_owner_name(p.lstat().st_uid) for p in foreign})
        user = _owner_name(me)
        listed = ", ".join(str(p) for p in foreign)
        found.insert(
            0,
            f"these belong to {' and '.join(owners)}, not to you ({user}), "
            f"probably from a run with sudo: {listed}. "
            f"Fix: sudo chown -R {shlex.quote(user)}: {_quoted(paths.home)}",
        )
    return found


def check_home(paths: AppPaths) -> None:
    """Raise :class:`HomeError` with every problem at once; return when the home is usable."""
    check_root_run(paths)
    found = problems(paths)
    if found:
        raise HomeError(
            f"The app home {paths.home} cannot be used as it is:\n  - " + "\n  - ".join(found)
        )

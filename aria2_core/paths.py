"""Where Aria Tray keeps its files: one per-user *app home*.

Everything that identifies an instance (the instance lock, the IPC socket,
the aria2c ownership record, the private aria2c config, the session, the
link journal, the logs) lives below one folder. Two app homes never meet, so
tests and portable installs set ``ARIA_TRAY_HOME`` and get a world of their
own. The home is never under ``/tmp`` or ``TMPDIR`` by default: browsers and
sandboxes change TMPDIR, and a lock that moves is no lock at all.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import UnsafeFolderError

HOME_ENV = "ARIA_TRAY_HOME"

# AF_UNIX socket paths are limited to 108 bytes (104 on macOS); keep a margin.
_MAX_SOCKET_PATH = 100


def default_home() -> Path:
    """The per-user app home for this platform, honouring ``ARIA_TRAY_HOME``."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser().absolute()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "AriaTray"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "AriaTray"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "aria-tray"


@dataclass(frozen=True)
class AppPaths:
    """All the files of one app home. Build it with :meth:`for_home`."""

    home: Path

    @classmethod
    def for_home(cls, home: Path | str | None = None) -> AppPaths:
        return cls(Path(home).absolute() if home is not None else default_home())

    # -- instance ---------------------------------------------------------
    @property
    def lock_file(self) -> Path:
        """The ``QLockFile`` that decides which process is the primary."""
        return self.home / "instance.lock"

    @property
    def server_name(self) -> str:
        r"""The ``QLocalServer`` name: a socket path on Unix, a pipe name on Windows.

        Windows pipe names are machine-wide, so the user and a hash of the
        home go into the name: the user as the SID of our access token (the
        ``USERNAME`` variable is anyone's to set), the home case-folded as
        Windows compares paths (``C:\Users\Me`` and ``c:\users\me`` are one
        home, one lock, so one pipe). On Unix the socket sits in the home
        (mode 0700), unless that path is too long for AF_UNIX; then it moves
        to a short per-user runtime folder, still keyed by the home's hash.
        """
        if sys.platform == "win32":
            from .win_user import current_user_sid

            home = os.path.normcase(str(self.home))
            digest = hashlib.sha256(home.encode("utf-8", "surrogatepass")).hexdigest()[:16]
            return f"aria-tray-{current_user_sid()}-{digest}"
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:16]
        path = self.home / "ipc.sock"
        if len(str(path).encode()) <= _MAX_SOCKET_PATH:
            return str(path)
        runtime = os.environ.get("XDG_RUNTIME_DIR") or str(Path.home() / ".cache")
        return str(Path(runtime) / "aria-tray" / f"{digest}.sock")

    # -- engine -----------------------------------------------------------
    @property
    def engine_dir(self) -> Path:
        return self.home / "engine"

    @property
    def conf_file(self) -> Path:
        """Private aria2c config (0600). Holds the RPC secret, so it is never on argv."""
        return self.engine_dir / "aria2.conf"

    @property
    def session_file(self) -> Path:
        """aria2c's ``--input-file`` and ``--save-session``: the unfinished queue."""
        return self.engine_dir / "session.txt"

    @property
    def ledger_file(self) -> Path:
        """How each download was added and how far it got (see ``aria2_core.ledger``)."""
        return self.engine_dir / "downloads.json"

    @property
    def metadata_dir(self) -> Path:
        """Private copies of the ``.torrent`` and metalink files the user added."""
        return self.engine_dir / "metadata"

    @property
    def dht_file(self) -> Path:
        """aria2's DHT routing table (IPv4); ``dht6.dat`` next to it for IPv6."""
        return self.engine_dir / "dht.dat"

    @property
    def ownership_file(self) -> Path:
        """JSON record of the aria2c we started (see ``aria2_core.ownership``)."""
        return self.engine_dir / "owned-aria2c.json"

    @property
    def ownership_lock(self) -> Path:
        return self.engine_dir / "owned-aria2c.json.lock"

    # -- app data ---------------------------------------------------------
    @property
    def journal_file(self) -> Path:
        """Links accepted but not yet confirmed in aria2's session."""
        return self.home / "journal.jsonl"

    @property
    def history_file(self) -> Path:
        """Completed and failed downloads, which aria2 itself forgets."""
        return self.home / "history.json"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def settings_file(self) -> Path:
        return self.home / "settings.ini"

    @property
    def rewritten_folders(self) -> tuple[Path, ...]:
        """Where files are replaced through ``atomic_file.write_atomic``, whose
        temporaries a crash mid-write leaves behind."""
        return (self.home, self.engine_dir, self.metadata_dir)

    def ensure(self) -> None:
        """Create the folders, user-only, so the socket and secrets stay private.

        Every folder, new or found, must be ours: another user could have
        made it first (a shared ``XDG_RUNTIME_DIR``) to read our socket or
        plant files. One of ours is set to 0700; one that is not ours, or the
        socket folder being a symlink, raises :class:`UnsafeFolderError`.
        Creating a folder may raise ``OSError``.
        """
        for folder in (self.home, self.engine_dir, self.log_dir):
            ensure_private_dir(folder)
        name = self.server_name
        if sys.platform != "win32" and not name.startswith(str(self.home)):
            parent = Path(name).parent
            parent.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            ensure_private_dir(parent, follow_symlinks=False)


def ensure_private_dir(folder: Path, *, follow_symlinks: bool = True) -> None:
    """Create ``folder`` (0700) or reuse it only if it is a folder of ours; make it 0700."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if sys.platform == "win32":
        return
    info = os.stat(folder) if follow_symlinks else os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFolderError(
            f"{folder} is not a folder (a symlink or a file is in its place). Aria Tray "
            "will not use it: remove it and start Aria Tray again."
        )
    if info.st_uid != os.getuid():
        raise UnsafeFolderError(
            f"The folder {folder} belongs to another user (uid {info.st_uid}, you are "
            f"uid {os.getuid()}). Aria Tray will not keep its files there: remove that "
            "folder, or point ARIA_TRAY_HOME (or XDG_RUNTIME_DIR) at a folder of your own."
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(folder, 0o700)


def default_download_dir() -> Path:
    """``~/Downloads``: the fallback when nobody says better.

    Never the home folder itself, even when ``~/Downloads`` does not exist
    yet (aria2 creates it). The desktop layer passes the platform's own
    Downloads folder instead (``desktop.settings.platform_download_dir``:
    XDG user dirs, the Windows Known Folder), which this layer, having no
    Qt, cannot read.
    """
    return Path.home() / "Downloads"

"""Where a download's files are, and deleting them when (only when) asked.

"Open file", "Open folder" and "Copy link" need a download's paths and
sources; the helpers below derive them from what aria2 (or the history)
reported.

"Remove and delete files" must delete what the download wrote and nothing
else. aria2 reports each file's path; next to a file it keeps a control
file ``<file>.aria2`` (a torrent keeps one ``<dir>/<torrent name>.aria2``).
Every path is checked to lie inside the download's folder before it is
touched, so a strange path from aria2 or a hand-edited history can never
make us delete something outside it, and the folder itself is never removed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from .models import METADATA_PREFIX

log = logging.getLogger("aria_tray.files")

CONTROL_SUFFIX = ".aria2"


class _HasPath(Protocol):
    # read-only, so frozen records (FileInfo, HistoryFile) fit
    @property
    def path(self) -> str: ...


class DownloadLike(Protocol):
    """What deletion needs to know: a DownloadInfo and a HistoryRecord both fit."""

    @property
    def dir(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def files(self) -> Iterable[_HasPath]: ...


def open_target(info: DownloadLike) -> Path | None:
    """What "Open file" opens: the one file, or a multi-file download's own folder."""
    paths = [f.path for f in info.files if f.path and getattr(f, "selected", True)]
    paths = [p for p in paths if not p.startswith(METADATA_PREFIX)]
    if len(paths) == 1:
        return Path(paths[0])
    if not paths or not info.dir:
        return None
    folder = Path(info.dir)
    try:
        return folder / Path(paths[0]).relative_to(folder).parts[0]
    except (ValueError, IndexError):
        return folder


def containing_folder(info: DownloadLike) -> Path | None:
    """What "Open folder" opens: the folder that holds the download."""
    target = open_target(info)
    if target is not None:
        return target.parent
    return Path(info.dir) if info.dir else None


def source_links(info: DownloadLike) -> list[str]:
    """The download's links, for "Copy link"; a torrent's is a magnet from its info hash."""
    uris = [uri for f in info.files for uri in getattr(f, "uris", ())]
    info_hash = getattr(info, "info_hash", None)
    if not uris and info_hash:
        uris = [f"magnet:?xt=urn:btih:{info_hash}"]
    return list(dict.fromkeys(uris))


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return path != folder


def planned_deletions(info: DownloadLike) -> list[Path]:
    """The files a delete would remove (existing or not), each inside the folder."""
    if not info.dir:
        return []
    folder = Path(os.path.abspath(info.dir))
    targets: list[Path] = []
    for item in info.files:
        if not item.path or item.path.startswith(METADATA_PREFIX):
            continue
        path = Path(os.path.abspath(os.path.join(folder, item.path)))
        targets += [path, path.with_name(path.name + CONTROL_SUFFIX)]
    is_torrent = bool(getattr(info, "is_torrent", False) or getattr(info, "info_hash", None))
    if is_torrent and info.name and "/" not in info.name and "\\" not in info.name:
        targets.append(folder / (info.name + CONTROL_SUFFIX))  # a torrent's control file
    seen: dict[Path, None] = {}
    for path in targets:
        if _inside(path, folder):
            seen.setdefault(path, None)
        else:
            log.warning("not deleting %s: outside the download folder %s", path, folder)
    return list(seen)


def delete_download_files(info: DownloadLike) -> list[Path]:
    """Delete the download's files and control files; return what was deleted.

    Folders the deletion emptied (a multi-file torrent's own folder) go too,
    up to but never including the download folder. A file that is already
    gone is not an error; one that cannot be deleted is logged and skipped.
    """
    deleted: list[Path] = []
    parents: set[Path] = set()
    for path in planned_deletions(info):
        try:
            if path.is_file() or path.is_symlink():
                path.unlink()
                deleted.append(path)
                parents.add(path.parent)
        except OSError as exc:
            log.warning("could not delete %s: %s", path, exc)
    folder = Path(os.path.abspath(info.dir)) if info.dir else None
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        while folder is not None and _inside(parent, folder):
            try:
                parent.rmdir()  # only succeeds when empty
            except OSError:
                break
            parent = parent.parent
    return deleted


def delete_torrent_control_file(info: DownloadLike) -> None:
    """Delete a completed torrent's ``<dir>/<name>.aria2``, left behind by ``force-save``.

    Torrents are force-saved so a seeding one survives a restart, and then
    aria2 keeps their control file even once they are complete; when the
    download moves into the history it is litter in the user's folder.
    """
    if not info.dir or not info.name or "/" in info.name or "\\" in info.name:
        return
    folder = Path(os.path.abspath(info.dir))
    path = folder / (info.name + CONTROL_SUFFIX)
    try:
        if _inside(path, folder) and path.is_file():
            path.unlink()
    except OSError as exc:
        log.warning("could not delete %s: %s", path, exc)

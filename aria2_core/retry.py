"""Retry: add a failed download again the way the user added it.

The ledger (``aria2_core.ledger``) knows how each download came in: its
links, or the app's private copy of its ``.torrent``/metalink, and the
options it was added with. A retry re-adds exactly that, so a torrent comes
back with its trackers, web seeds and metadata (not as a bare magnet
waiting for metadata forever) and an HTTP download with its headers and
folder. Downloads from before the ledger fall back to their links.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .errors import RpcError
from .history import HistoryRecord, HistoryStore
from .ledger import METALINK, TORRENT, URI, DownloadLedger, Origin
from .models import DownloadInfo
from .rpc import Aria2Client, Call
from .task_ops import ActionResult, forget_results

log = logging.getLogger("aria_tray.tasks")


def retry_downloads(
    client: Aria2Client,
    sources: Sequence[DownloadInfo | HistoryRecord],
    history: HistoryStore,
    ledger: DownloadLedger | None = None,
) -> ActionResult:
    """Add failed downloads again as the user added them; forget the old entries that worked.

    With a ledger record that is the same links, ``.torrent`` or metalink
    (the app's private copy: the user's may be gone), with the same options.
    """
    result = ActionResult()
    for source in sources:
        origin = ledger.get(source.gid) if ledger is not None else None
        metadata = _read_metadata(ledger, origin)
        calls = retry_calls(source, origin, metadata)
        if not calls:
            result.skipped.append(source.name)
            continue
        answers = client.multicall(calls)
        failures = [a for a in answers if isinstance(a, RpcError)]
        if failures:
            result.problems.append(f"{source.name}: {failures[0].message}")
            continue
        result.done.append(source.gid)
        if ledger is not None and origin is not None:
            gids = [str(g) for a in answers for g in (a if isinstance(a, list) else [a])]
            fresh = Origin(origin.gid, origin.kind, origin.uris, origin.file, origin.options)
            ledger.record(replace(fresh, gid=g) for g in gids)
    history.remove(result.done)
    if ledger is not None:
        ledger.forget(result.done)
    forget_results(client, result.done)
    return result


def _read_metadata(ledger: DownloadLedger | None, origin: Origin | None) -> bytes | None:
    """The private copy of an origin's ``.torrent``/metalink, if it has one and it is there."""
    if ledger is None or origin is None or not origin.file:
        return None
    try:
        return ledger.metadata_path(origin).read_bytes()
    except OSError as exc:
        log.warning("cannot read the kept copy for %s: %s", origin.gid, exc)
        return None


def retry_calls(
    info: DownloadInfo | HistoryRecord, origin: Origin | None = None, metadata: bytes | None = None
) -> list[Call]:
    """The calls that start a failed download again, in the same place.

    With its origin: the same ``.torrent``/metalink bytes or links, with the
    options it was added with. An HTTP download also gets its name relative
    to its folder (``out``), so aria2 finds its ``.aria2`` control file and
    resumes. Without an origin (added before the app kept them) each file
    with sources is re-added from its links, and a torrent from its info
    hash as a magnet link.
    """
    usable = metadata is not None if origin and origin.kind in (TORRENT, METALINK) else True
    if origin is not None and usable and (origin.uris or metadata is not None):
        options: dict[str, Any] = dict(origin.options)
        if info.dir and not options.get("dir"):
            options["dir"] = info.dir
        if origin.kind == TORRENT and metadata is not None:
            return [("aria2.addTorrent", [base64.b64encode(metadata).decode("ascii"), [], options])]
        if origin.kind == METALINK and metadata is not None:
            return [("aria2.addMetalink", [base64.b64encode(metadata).decode("ascii"), options])]
        if origin.kind == URI and len(info.files) == 1 and not options.get("out"):
            relative = _relative_to(info.files[0].path, str(options.get("dir") or ""))
            if relative:
                options["out"] = relative
        return [("aria2.addUri", [list(origin.uris), options])]
    folder = info.dir
    if info.info_hash:
        magnet = f"magnet:?xt=urn:btih:{info.info_hash}"
        return [("aria2.addUri", [[magnet], {"dir": folder} if folder else {}])]
    calls: list[Call] = []
    for file in info.files:
        if not file.uris:
            continue
        file_options: dict[str, str] = {"dir": folder} if folder else {}
        relative = _relative_to(file.path, folder)
        if relative:
            file_options["out"] = relative
        calls.append(("aria2.addUri", [list(file.uris), file_options]))
    return calls


def _relative_to(path: str, folder: str) -> str:
    """``path`` relative to ``folder`` (aria2's ``out``), or just its file name."""
    if not path:
        return ""
    base = folder.rstrip("/\\")
    if base and path[: len(base) + 1] in (base + "/", base + "\\"):
        return path[len(base) + 1 :]
    return path.replace("\\", "/").rsplit("/", 1)[-1]

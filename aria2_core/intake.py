"""Hand journaled links to aria2: the worker-thread half of "never lose a link".

The controller journals links first and calls :func:`hand_over` later, on
its worker thread, when the engine is ready. An entry is marked done by the
caller only after this returns, which is after aria2 saved its session.

An entry may reach aria2 without being marked done: the app died after
aria2 accepted it (a *replay* at the next start), or a drain timed out
while aria2 was still working on it (a *retry*). Such entries are checked
against everything aria2 holds, by URI and by BitTorrent info hash
(:mod:`aria2_core.link_identity`), and what is already there is skipped
rather than downloaded twice.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import LinkError, RpcError
from .history import HistoryStore
from .journal import JournalEntry
from .ledger import MAGNET, METALINK, TORRENT, URI, DownloadLedger, Origin
from .link_identity import link_identity, task_identities
from .links import Link, LinkKind, parse_many
from .rpc import Aria2Client, Call, build_add_calls

log = logging.getLogger("aria_tray.intake")

_ORIGIN_KIND = {
    LinkKind.URI: URI,
    LinkKind.MAGNET: MAGNET,
    LinkKind.TORRENT: TORRENT,
    LinkKind.METALINK: METALINK,
}


@dataclass
class EntryOutcome:
    entry: JournalEntry
    gids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    already_there: int = 0


def known_uris(client: Aria2Client) -> set[str]:
    """Every URI aria2 holds, in any state, and ``btih:<hex>`` for each torrent."""
    keys = ["files", "infoHash"]
    calls: list[Call] = [
        ("aria2.tellActive", [keys]),
        ("aria2.tellWaiting", [0, 100_000, keys]),
        ("aria2.tellStopped", [0, 100_000, keys]),
    ]
    uris: set[str] = set()
    for result in client.multicall(calls):
        if isinstance(result, RpcError):
            raise result
        for task in result:
            uris |= task_identities(task)
    return uris


def add_options(link: Link, options: Mapping[str, Any], default_dir: str) -> dict[str, Any]:
    """The options one download is added with: the entry's, plus its own folder.

    Every download names its folder (``dir``), so a later change of the
    default folder moves none of them, before or after a restart. Torrents
    and magnets are ``force-save``d: aria2 drops a finished download from
    its session otherwise, and a seeding torrent is a finished download.
    """
    result = dict(options)
    if default_dir and not result.get("dir"):
        result["dir"] = default_dir
    if link.kind in (LinkKind.TORRENT, LinkKind.MAGNET):
        result["force-save"] = "true"
    return result


def _origins(link: Link, options: Mapping[str, Any], gids: list[str], file: str) -> list[Origin]:
    """How each gid came to be, for the ledger (Retry, restore, progress)."""
    stored = {k: [str(i) for i in v] if isinstance(v, list) else str(v) for k, v in options.items()}
    paused = stored.pop("pause", "") == "true"  # followed from aria2 from now on
    kind = _ORIGIN_KIND[link.kind]
    uris = (link.value,) if kind in (URI, MAGNET) else ()
    if kind == METALINK and len(gids) > 1:  # one gid per file of the metalink
        return [
            Origin(g, kind, uris, file, {**stored, "select-file": str(n)}, paused)
            for n, g in enumerate(gids, start=1)
        ]
    return [Origin(g, kind, uris, file, stored, paused) for g in gids]


def _prepare(link: Link, ledger: DownloadLedger | None) -> tuple[Link, str]:
    """A file link is added from the app's private copy, kept for restarts and Retry."""
    if ledger is None or link.kind not in (LinkKind.TORRENT, LinkKind.METALINK):
        return link, ""
    try:
        data = Path(link.value).read_bytes()
    except OSError as exc:
        raise LinkError(link.value, f"cannot read file ({exc.strerror or exc})") from exc
    try:
        name = ledger.keep_metadata(data, _ORIGIN_KIND[link.kind])
    except OSError:  # no private copy (disk full?): still add it, from the user's file
        log.error("cannot keep a copy of %s", link.value, exc_info=True)
        return link, ""
    return Link(link.kind, str(ledger.metadata_dir / name)), name


def hand_over(
    client: Aria2Client,
    entries: list[JournalEntry],
    replayed_before: float,
    ledger: DownloadLedger | None = None,
    default_dir: str = "",
    retried: Collection[str] = (),
    history: HistoryStore | None = None,
) -> list[EntryOutcome]:
    """Add each entry's links in one ``system.multicall``; then save the session.

    Entries older than ``replayed_before`` (the app's start time) are replays,
    and entries whose id is in ``retried`` were sent by a drain that failed;
    both are checked against what aria2 already holds, and against
    ``history`` (downloads that finished and left aria2's lists meanwhile). Bad links become
    problems of their entry; the good ones still go in. Each added gid's
    origin goes into ``ledger`` before the session is saved.
    """

    def rechecked(entry: JournalEntry) -> bool:
        return entry.ts < replayed_before or entry.id in retried

    known: set[str] = set()
    if any(rechecked(e) for e in entries):
        known = known_uris(client)
        for record in history.records() if history is not None else []:
            known.update(record.uris)
            if record.info_hash:
                known.add(f"btih:{record.info_hash.lower()}")
    outcomes = []
    origins: list[Origin] = []
    for entry in entries:
        outcome = EntryOutcome(entry)
        parsed = parse_many(entry.sources)  # kept copies of .torrent/.metalink files
        outcome.problems.extend(str(err) for err in parsed.errors)
        added: list[tuple[Link, dict[str, Any], str]] = []
        calls: list[Call] = []
        for link in parsed.links:
            if rechecked(entry) and link_identity(link) in known:
                outcome.already_there += 1
                continue
            try:  # a .torrent may vanish between parsing and reading
                source, file = _prepare(link, ledger)
                options = add_options(link, entry.options, default_dir)
                calls.extend(build_add_calls([source], options))
                added.append((link, options, file))
            except LinkError as exc:
                outcome.problems.append(str(exc))
        if calls:
            for (link, options, file), result in zip(added, client.multicall(calls), strict=True):
                if isinstance(result, RpcError):
                    outcome.problems.append(f"{link.value}: {result.message}")
                    continue
                gids = [str(g) for g in (result if isinstance(result, list) else [result])]
                outcome.gids.extend(gids)
                origins += _origins(link, options, gids, file)
        outcomes.append(outcome)
    if ledger is not None:  # one write for the batch, before aria2 saves its session
        ledger.record(origins)
    client.save_session()
    return outcomes

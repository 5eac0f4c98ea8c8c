"""Hand journaled links to aria2: the worker-thread half of "never lose a link".

The controller journals links first and calls :func:`hand_over` later, on
its worker thread, when the engine is ready. An entry is marked done by the
caller only after this returns, which is after aria2 saved its session.

If the app died after aria2 accepted an entry but before it was marked
done, the entry is replayed at the next start; URIs that aria2's restored
session already holds are then skipped rather than downloaded twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import LinkError, RpcError
from .journal import JournalEntry
from .links import LinkKind, parse_many
from .rpc import Aria2Client, build_add_calls

_URI_KINDS = (LinkKind.URI, LinkKind.MAGNET)


@dataclass
class EntryOutcome:
    entry: JournalEntry
    gids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    already_there: int = 0


def known_uris(client: Aria2Client) -> set[str]:
    """Every URI aria2 holds, in any state."""
    keys = ["files"]
    calls = [
        ("aria2.tellActive", [keys]),
        ("aria2.tellWaiting", [0, 100_000, keys]),
        ("aria2.tellStopped", [0, 100_000, keys]),
    ]
    uris: set[str] = set()
    for result in client.multicall(calls):
        if isinstance(result, RpcError):
            raise result
        for task in result:
            for f in task.get("files", []):
                uris.update(u.get("uri", "") for u in f.get("uris", []))
    return uris


def hand_over(
    client: Aria2Client, entries: list[JournalEntry], replayed_before: float
) -> list[EntryOutcome]:
    """Add each entry's links in one ``system.multicall``; then save the session.

    Entries older than ``replayed_before`` (the app's start time) are replays
    and are checked against what aria2 already holds. Bad links become
    problems of their entry; the good ones still go in.
    """
    known = known_uris(client) if any(e.ts < replayed_before for e in entries) else set()
    outcomes = []
    for entry in entries:
        outcome = EntryOutcome(entry)
        parsed = parse_many(entry.items)
        outcome.problems.extend(str(err) for err in parsed.errors)
        links, calls = [], []
        for link in parsed.links:
            if entry.ts < replayed_before and link.kind in _URI_KINDS and link.value in known:
                outcome.already_there += 1
                continue
            try:  # a .torrent may vanish between parsing and reading
                calls.extend(build_add_calls([link], entry.options))
                links.append(link)
            except LinkError as exc:
                outcome.problems.append(str(exc))
        if calls:
            for link, result in zip(links, client.multicall(calls), strict=True):
                if isinstance(result, RpcError):
                    outcome.problems.append(f"{link.value}: {result.message}")
                else:
                    outcome.gids.extend(result if isinstance(result, list) else [result])
        outcomes.append(outcome)
    client.save_session()
    return outcomes

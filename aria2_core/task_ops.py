"""Per-download operations built from aria2 RPC calls. Blocking: run them on a worker.

The controller wraps each of these in one background task, so a click in the
UI costs one round trip (a ``system.multicall``) wherever aria2 allows it,
and every change ends with ``aria2.saveSession``: aria2 writes ``pause=true``
into its session, which is what keeps a paused download paused across a
restart or a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .download_files import delete_download_files, delete_torrent_control_file
from .errors import RpcError
from .history import HistoryRecord, HistoryStore, should_record
from .json_pieces import LeafMemo
from .ledger import DownloadLedger
from .models import STATUS_KEYS, DownloadInfo, Peer, TaskDetails
from .rpc import POS_CUR, Aria2Client, Call
from .session_restore import keep_magnet_metadata

log = logging.getLogger("aria_tray.tasks")

# How many waiting and stopped downloads one refresh asks for.
LIST_LIMIT = 10_000


@dataclass
class TaskLists:
    """One refresh: what aria2 holds now, and what just moved into the history."""

    active: list[DownloadInfo] = field(default_factory=list)
    waiting: list[DownloadInfo] = field(default_factory=list)
    stopped: list[DownloadInfo] = field(default_factory=list)  # not (yet) in the history
    recorded: list[DownloadInfo] = field(default_factory=list)  # just moved to the history
    problem: str = ""  # why finished downloads could not move to the history ("" if they did)

    @property
    def live(self) -> list[DownloadInfo]:
        return [*self.active, *self.waiting, *self.stopped]


@dataclass
class ActionResult:
    """What a per-task action did; ``problems`` are one line per failed gid."""

    done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # names: nothing to act on
    value: Any = None


def list_calls(limit: int = LIST_LIMIT) -> list[Call]:
    keys = list(STATUS_KEYS)
    return [
        ("aria2.tellActive", [keys]),
        ("aria2.tellWaiting", [0, limit, keys]),
        ("aria2.tellStopped", [0, limit, keys]),
    ]


def row_memo() -> LeafMemo:
    """What :func:`fetch_lists` keeps between refreshes: each row's text and its object."""
    return LeafMemo(DownloadInfo.from_status)


def fetch_lists(
    client: Aria2Client, limit: int = LIST_LIMIT, memo: LeafMemo | None = None
) -> TaskLists:
    """Active, waiting and stopped downloads in one round trip.

    With ``memo`` (from :func:`row_memo`, one per refreshing thread), a row
    whose text aria2 sends unchanged is the same object as last time,
    neither decoded nor built again (``json_pieces.LeafMemo``).
    """
    answers = client.multicall(list_calls(limit), memo=memo)
    lists: list[list[DownloadInfo]] = []
    for answer in answers:
        if isinstance(answer, RpcError):
            raise answer
        lists.append(
            [
                item if isinstance(item, DownloadInfo) else DownloadInfo.from_status(item)
                for item in answer
            ]
        )
    active, waiting, stopped = lists
    return TaskLists(active=active, waiting=waiting, stopped=stopped)


def share_unchanged(
    rows: list[DownloadInfo], previous: dict[str, DownloadInfo]
) -> dict[str, DownloadInfo]:
    """Put last refresh's object back wherever a download did not change at all.

    Runs on the worker, so the GUI thread can tell an unchanged row by
    identity (``is``) instead of comparing fields: with 10,000 downloads
    most of them are queued or finished and never change. Returns the
    cache for the next call.
    """
    for position, info in enumerate(rows):
        before = previous.get(info.gid)
        if before is not None and before == info:
            rows[position] = before
    return {info.gid: info for info in rows}


def sweep_stopped(
    client: Aria2Client,
    lists: TaskLists,
    history: HistoryStore,
    ledger: DownloadLedger | None = None,
) -> None:
    """Move finished downloads into ``history``, then make aria2 forget them.

    The history is written (fsync) before ``removeDownloadResult``, so a crash
    in between shows a download twice at worst, never loses it. A download
    the history does not keep (a removed one, a magnet's metadata step) is
    simply forgotten. The session is saved afterwards, or aria2 would retry
    a forgotten failed download at its next start. A history that can't be
    written leaves everything in aria2 and says why in ``lists.problem``.
    """
    keep = [info for info in lists.stopped if should_record(info)]
    if keep:
        try:
            history.merge(HistoryRecord.from_download(info) for info in keep)
        except OSError as exc:
            # Keep them in aria2 (shown as live rows) until the history can be
            # written: the list goes on and nothing is forgotten.
            log.error("cannot write the history %s", history.path, exc_info=True)
            lists.problem = f"cannot write {history.path}: {exc.strerror or exc}"
            return
    if not lists.stopped:
        return
    if ledger is not None:  # kept for Retry, never restored; the rest is gone for good
        complete = {info.gid for info in keep if info.status == "complete"}
        ledger.mark_finished((info.gid for info in keep), completed=complete)
        ledger.forget(info.gid for info in lists.stopped if not should_record(info))
    answers = client.multicall(
        [("aria2.removeDownloadResult", [info.gid]) for info in lists.stopped]
    )
    leftover = []
    for info, answer in zip(lists.stopped, answers, strict=True):
        if isinstance(answer, RpcError) and "not found" not in answer.message:
            log.warning("could not forget result %s: %s", info.gid, answer.message)
            if not should_record(info):
                leftover.append(info)
    lists.recorded = keep
    lists.stopped = leftover
    client.save_session()
    for info in keep:  # aria2 let go of them: the force-saved control files go
        if info.status == "complete" and info.is_torrent:
            delete_torrent_control_file(info)


# Per-download options a user changes after adding (file selection, speed
# limit): read back from aria2 at quit, so a restored download keeps them.
CHANGEABLE_OPTIONS = ("select-file", "max-download-limit")


def note_at_quit(client: Aria2Client, ledger: DownloadLedger, history: HistoryStore) -> None:
    """Before aria2c stops: sweep finished downloads, record progress and changed options.

    A torrent that finished seeding goes into the history now, or aria2
    (which force-saves torrents) would bring it back to seed again. After a
    restart aria2 reports 0 for a download until it runs, and a torrent the
    ledger restores gets its options from the record.
    """
    lists = fetch_lists(client)
    ledger.note_rows(lists.live)
    keep_magnet_metadata(ledger, lists.live)
    sweep_stopped(client, lists, history, ledger)
    live = lists.live
    ledger.note_rows(live, everything=True)
    gids = [info.gid for info in live if (origin := ledger.get(info.gid)) and origin.file]
    if not gids:
        return
    answers = client.multicall([("aria2.getOption", [gid]) for gid in gids])
    ledger.update_options(
        {
            gid: {k: str(answer[k]) for k in CHANGEABLE_OPTIONS if k in answer}
            for gid, answer in zip(gids, answers, strict=True)
            if isinstance(answer, dict)
        }
    )


def run_per_gid(client: Aria2Client, method: str, gids: Sequence[str], *extra: Any) -> ActionResult:
    """``method(gid, *extra)`` for every gid in one multicall, then save the session."""
    result = ActionResult()
    if not gids:
        return result
    answers = client.multicall([(method, [gid, *extra]) for gid in gids])
    for gid, answer in zip(gids, answers, strict=True):
        if isinstance(answer, RpcError):
            result.problems.append(f"{gid}: {answer.message}")
        else:
            result.done.append(gid)
    client.save_session()
    return result


def move(client: Aria2Client, gids: Sequence[str], step: int) -> ActionResult:
    """Move each gid ``step`` places in the queue (negative: towards the front).

    Moving up goes front-first and moving down back-first, so a block of
    selected downloads keeps its own order instead of leapfrogging itself.
    """
    order = {info["gid"]: n for n, info in enumerate(client.tell_waiting(0, LIST_LIMIT, ["gid"]))}
    queued = sorted((g for g in gids if g in order), key=order.__getitem__, reverse=step > 0)
    result = ActionResult()
    for gid in queued:
        try:
            client.change_position(gid, step, POS_CUR)
            result.done.append(gid)
        except RpcError as exc:
            result.problems.append(f"{gid}: {exc.message}")
    result.problems += [f"{g}: not in the waiting queue" for g in gids if g not in order]
    client.save_session()
    return result


def start_removal(client: Aria2Client, gids: Sequence[str]) -> ActionResult:
    """Ask aria2 to drop live downloads; ``value`` maps gid -> its last-known record.

    ``forceRemove`` returns at once but an active download needs a moment to
    close its files; :func:`removal_finished` tells when it has.
    """
    result = ActionResult(value={})
    statuses = client.multicall([("aria2.tellStatus", [g, list(STATUS_KEYS)]) for g in gids])
    live = []
    for gid, status in zip(gids, statuses, strict=True):
        if isinstance(status, RpcError):
            result.problems.append(f"{gid}: {status.message}")
            continue
        info = DownloadInfo.from_status(status)
        result.value[gid] = info
        if not info.is_finished:
            live.append(gid)
    answers = client.multicall([("aria2.forceRemove", [g]) for g in live])
    for gid, answer in zip(live, answers, strict=True):
        if isinstance(answer, RpcError):
            result.problems.append(f"{gid}: {answer.message}")
            result.value.pop(gid, None)
    result.done = list(result.value)
    return result


def begin_remove(
    client: Aria2Client | None,
    history: HistoryStore,
    gids: Sequence[str],
    delete_files: bool,
    ledger: DownloadLedger | None = None,
) -> ActionResult:
    """First step of a removal: history entries go at once, live ones are asked to stop.

    ``value`` maps each live gid being removed to its last record, for
    :func:`finish_remove`. The ledger forgets them at once, so a quit right
    after never restores a removed torrent.
    """
    result = ActionResult(value={})
    for record in history.remove(gids):
        if delete_files:
            delete_download_files(record)
        result.done.append(record.gid)
    live = [g for g in gids if g not in result.done]
    if live and client is not None:
        started = start_removal(client, live)
        result.done += started.done
        result.problems += started.problems
        result.value = started.value
    if ledger is not None:
        ledger.forget(result.done)
    return result


def removal_finished(client: Aria2Client, gids: Sequence[str]) -> list[str]:
    """The gids that are still winding down (neither stopped nor gone)."""
    answers = client.multicall([("aria2.tellStatus", [g, ["status"]]) for g in gids])
    return [
        gid
        for gid, answer in zip(gids, answers, strict=True)
        if isinstance(answer, dict) and answer.get("status") in ("active", "waiting", "paused")
    ]


def finish_remove(
    client: Aria2Client, pending: dict[str, DownloadInfo], delete_files: bool, last_try: bool
) -> list[str]:
    """Forget removed results and delete files once aria2 let go of them.

    Returns the gids still winding down (nothing was done yet); an empty list
    means done. Deleting before aria2 closed a file would let it write the
    file, or its control file, back.
    """
    busy = removal_finished(client, list(pending))
    if busy and not last_try:
        return busy
    forget_results(client, list(pending))
    if delete_files:
        for info in pending.values():
            delete_download_files(info)
    return []


def forget_results(client: Aria2Client, gids: Sequence[str]) -> None:
    """Drop stopped results (ignoring gids aria2 no longer knows), then save."""
    if gids:
        client.multicall([("aria2.removeDownloadResult", [g]) for g in gids])
    client.save_session()


def select_file_option(indexes: Iterable[int]) -> str:
    """aria2's ``select-file`` value: 1-based indexes, comma-separated."""
    chosen = sorted({int(i) for i in indexes if int(i) > 0})
    if not chosen:
        raise ValueError("select at least one file")
    return ",".join(str(i) for i in chosen)


def fetch_details(client: Aria2Client, gid: str) -> TaskDetails:
    """Files, URIs, peers (BitTorrent only) and the error of one download."""
    status = client.tell_status(
        gid,
        ["gid", "status", "bittorrent", "infoHash", "numSeeders", "errorCode", "errorMessage",
         "files"],
    )  # fmt: skip
    info = DownloadInfo.from_status(status)
    details = TaskDetails(
        gid=gid,
        files=info.files,
        num_seeders=info.num_seeders,
        is_torrent=info.is_torrent,
        error_message=info.error_message if info.status in ("error", "removed") else "",
        error_code=info.error_code if info.status in ("error", "removed") else None,
    )
    calls: list[Call] = [("aria2.getUris", [gid])]
    if info.is_torrent and info.status == "active":
        calls.append(("aria2.getPeers", [gid]))
    answers = client.multicall(calls)
    if isinstance(answers[0], list):
        details.uris = _unique_uris(answers[0])
    if len(answers) > 1 and isinstance(answers[1], list):
        details.peers = [_peer(p) for p in answers[1]]
    return details


def _unique_uris(answer: list[Any]) -> list[tuple[str, str]]:
    """``getUris`` lists a link once per connection (``split``): show each once.

    A link counts as "used" when any of its copies is.
    """
    states: dict[str, str] = {}
    for item in answer:
        if not isinstance(item, dict) or not item.get("uri"):
            continue
        uri, state = str(item["uri"]), str(item.get("status", ""))
        if states.get(uri) != "used":
            states[uri] = state
    return list(states.items())


def details_from_record(info: DownloadInfo | HistoryRecord) -> TaskDetails:
    """Details from what is already known, for history rows or while aria2 is away."""
    if isinstance(info, HistoryRecord):
        return TaskDetails(
            gid=info.gid,
            files=info.to_download().files,
            uris=[(uri, "") for uri in info.uris],
            is_torrent=info.info_hash is not None,
            error_message=info.error_message,
            error_code=info.error_code if info.status in ("error", "removed") else None,
            from_history=True,
        )
    return TaskDetails(
        gid=info.gid,
        files=list(info.files),
        uris=[(uri, "") for uri in dict.fromkeys(u for f in info.files for u in f.uris)],
        num_seeders=info.num_seeders,
        is_torrent=info.is_torrent,
        error_message=info.error_message,
        error_code=info.error_code if info.status in ("error", "removed") else None,
        from_history=bool(getattr(info, "from_history", False)),
    )


def _peer(data: dict[str, Any]) -> Peer:
    def number(key: str) -> int:
        try:
            return int(data.get(key) or 0)
        except (TypeError, ValueError):
            return 0

    return Peer(
        address=f"{data.get('ip', '')}:{data.get('port', '')}",
        download_speed=number("downloadSpeed"),
        upload_speed=number("uploadSpeed"),
        seeder=str(data.get("seeder", "false")).lower() == "true",
    )

"""The per-download half of the controller: the task list, its history and details.

``Controller`` inherits this class (and through it ``TaskActions``, the
per-task actions), so the window calls ``controller.pause(gids)`` like any
other controller method; the code lives here only to keep each file about
one idea. It relies on what ``Controller`` sets up before
calling :meth:`_init_task_controls`: ``engine``, ``tasks``, ``_paths``,
``_stopping``, ``stats`` and the ``notice``/``stats_changed``/``links_added``
signals.

**Refresh without waste.** One background call fetches active, waiting and
stopped downloads in a single ``system.multicall`` with a ``keys`` filter,
moves finished ones into the history store and emits the merged rows. It
runs every second while the window is visible, every five seconds while it
is hidden and something downloads (so finished downloads reach the history
and the notifications), and not at all while hidden and idle: the stats
poll, which stops by itself when idle, wakes it when work appears or ends.
Our own actions refresh at once.

Finished downloads are recorded in the history (``history.json``) before
aria2 is asked to forget them, so they survive restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal, SignalInstance, Slot

from aria2_core.download_files import containing_folder, open_target, source_links
from aria2_core.history import HistoryRecord, HistoryStore
from aria2_core.ledger import DownloadLedger
from aria2_core.models import DownloadInfo, GlobalStat
from aria2_core.session_restore import keep_magnet_metadata
from aria2_core.task_ops import (
    LIST_LIMIT,
    TaskDetails,
    TaskLists,
    details_from_record,
    fetch_details,
    fetch_lists,
    note_at_quit,
    row_memo,
    share_unchanged,
    sweep_stopped,
)

from .heap import collections_paused
from .task_actions import TaskActions

if TYPE_CHECKING:
    from aria2_core.paths import AppPaths

    from .engine import Engine
    from .tasks import TaskRunner


log = logging.getLogger("aria_tray.controller")


@dataclass
class _Refresh:
    """What one background refresh hands to the GUI thread."""

    rows: list[DownloadInfo]
    by_gid: dict[str, DownloadInfo]
    busy: bool
    finished: list[DownloadInfo]
    problem: str = ""
    seeding: frozenset[str] = frozenset()  # gids of torrents that have all their data


def halted(info: DownloadInfo) -> DownloadInfo:
    """A live row while aria2c is not running: queued, no speeds, no connections.

    aria2 restores an active download as waiting from its session, so
    "Queued" is what the row will be when the engine is back.
    """
    if info.status != "active" and not (info.download_speed or info.upload_speed):
        return info
    status = "waiting" if info.status == "active" else info.status
    return replace(info, status=status, download_speed=0, upload_speed=0, connections=0)


REFRESH_VISIBLE_MS = 1000
REFRESH_HIDDEN_BUSY_MS = 5000
PROBLEM_RETRY_MS = 5000  # while the list can't be refreshed, look again this often


class TaskControls(TaskActions):
    """Task list refresh, history, details and paths. A base of ``Controller``."""

    # Both carry a list[DownloadInfo]. Declared ``object``: PySide converts a
    # ``list`` argument element by element (6 ms for 10,000 rows), ``object``
    # passes the same list.
    downloads_refreshed = Signal(object)  # live rows (aria2's order), then history rows
    downloads_finished = Signal(object)  # downloads that just completed or failed
    seeding_started = Signal(object)  # torrents that just finished downloading and now seed
    # Why the list can't be kept up to date ("" once it can again): the window shows it.
    list_problem = Signal(str)

    if TYPE_CHECKING:
        engine: Engine
        tasks: TaskRunner
        _paths: AppPaths
        _stopping: bool
        stats_changed: SignalInstance
        links_added: SignalInstance

        @property
        def stats(self) -> GlobalStat: ...

    def _init_task_controls(self) -> None:
        self.history = HistoryStore(self._paths.history_file)
        self.ledger = DownloadLedger(
            self._paths.ledger_file, self._paths.metadata_dir, self._paths.session_file
        )
        self._window_visible = False
        self._busy = False
        self._refreshing = False
        self._refresh_again = False
        self._rows: list[DownloadInfo] = list(self.history.downloads())
        self._by_gid: dict[str, DownloadInfo] = {r.gid: r for r in self._rows}
        self._worker_rows: dict[str, DownloadInfo] = {}  # touched by the RPC worker only
        self._row_memo = row_memo()  # the RPC worker's too: rows aria2 sends unchanged
        self._seeding: frozenset[str] | None = None  # None until the first refresh
        self._refresh_timer = QTimer(self)
        self._refresh_timer.timeout.connect(self.refresh_downloads)
        self._list_problem = ""
        self._problem_retry = QTimer(self)
        self._problem_retry.setSingleShot(True)
        self._problem_retry.setInterval(PROBLEM_RETRY_MS)
        self._problem_retry.timeout.connect(self.refresh_downloads)
        self.engine.state_changed.connect(self._tasks_engine_state)
        self.engine.ready.connect(self.refresh_downloads)
        self.stats_changed.connect(self._tasks_stats)
        self.links_added.connect(self.refresh_downloads)

    # -- the list ---------------------------------------------------------
    def downloads(self) -> list[DownloadInfo]:
        """The rows of the last refresh (history rows included)."""
        return list(self._rows)

    def download(self, gid: str) -> DownloadInfo | None:
        return self._by_gid.get(gid)

    @property
    def window_visible(self) -> bool:
        return self._window_visible

    def set_window_visible(self, visible: bool) -> None:
        """The window tells us when it is shown or hidden; that sets the refresh pace."""
        self._window_visible = visible
        if visible:
            self.refresh_downloads()
        self._reschedule()

    def refresh_interval_ms(self) -> int | None:
        """The current periodic refresh interval, or None while none runs (idle)."""
        timer = self._refresh_timer
        return timer.interval() if timer.isActive() else None

    @Slot()
    def refresh_downloads(self) -> None:
        """Fetch the task list now (coalesced with one already in flight)."""
        if self._stopping:
            return
        client = self.engine.client
        if client is None:
            # No engine (starting, restarting, failed): keep the last live rows,
            # but nothing runs, so none shows a speed, and show the history as it is now.
            live = [halted(r) for r in self._rows if not getattr(r, "from_history", False)]
            self._publish([*live, *self.history.downloads()], busy=False, finished=[])
            return
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        history, ledger = self.history, self.ledger

        def work() -> _Refresh:
            with collections_paused():  # MBs of JSON become rows: no GC walks them meanwhile
                return build()

        def build() -> _Refresh:
            lists: TaskLists = fetch_lists(client, memo=self._row_memo)
            ledger.note_rows(lists.live)  # before the sweep: a magnet's successor inherits
            keep_magnet_metadata(ledger, lists.live)
            sweep_stopped(client, lists, history, ledger)
            live = lists.live
            if len(lists.waiting) < LIST_LIMIT and len(lists.stopped) < LIST_LIMIT:
                present = {r.gid for r in live}
                ledger.prune(lambda gid: gid in present or gid in history)
            ledger.fill_progress(live)
            self._worker_rows = share_unchanged(live, self._worker_rows)  # worker-only state
            rows = live + [r for r in history.downloads() if r.gid not in self._worker_rows]
            by_gid = {r.gid: r for r in rows}  # built here: 10,000 rows cost the GUI nothing
            seeding = frozenset(r.gid for r in lists.active if r.is_seeding)
            return _Refresh(
                rows, by_gid, bool(lists.active), lists.recorded, lists.problem, seeding
            )

        self.tasks.run(work, on_done=self._got_rows, on_error=self._refresh_failed)

    def _note_progress_at_stop(self) -> None:
        """Queue, ahead of the engine's own stop, a last sweep and look at progress and options.

        After a restart aria2 reports 0 for a download until it runs again;
        the ledger then shows this instead. Same worker, so it runs before
        the session is saved and aria2c ends.
        """
        client, ledger, history = self.engine.client, self.ledger, self.history
        if client is not None:
            self.tasks.run(lambda: note_at_quit(client, ledger, history))

    def _got_rows(self, outcome: _Refresh) -> None:
        self._refreshing = False
        self._set_list_problem(outcome.problem)
        self._publish(outcome.rows, outcome.busy, outcome.finished, outcome.by_gid)
        self._note_seeding(outcome.seeding, outcome.by_gid)
        if self._refresh_again:
            self._refresh_again = False
            QTimer.singleShot(0, self.refresh_downloads)

    def _note_seeding(self, seeding: frozenset[str], by_gid: dict[str, DownloadInfo]) -> None:
        """Emit ``seeding_started`` for torrents that began seeding since the last refresh.

        The first refresh only learns what already seeds: torrents restored
        from the session were announced in the run that finished them.
        """
        before, self._seeding = self._seeding, seeding
        if before is None:
            return
        started = [by_gid[gid] for gid in seeding - before if gid in by_gid]
        if started:
            self.seeding_started.emit(started)

    def _refresh_failed(self, exc: BaseException) -> None:
        self._refreshing = False
        self._refresh_again = False
        if self.engine.client is not None:  # not just the engine going away under us
            log.error("refreshing the download list failed", exc_info=exc)
            self._set_list_problem(str(exc) or type(exc).__name__)
        self._reschedule()

    def _set_list_problem(self, problem: str) -> None:
        """Tell the window once per change, so a lasting problem is not repeated."""
        if problem != self._list_problem:
            self._list_problem = problem
            self.list_problem.emit(problem)
        if problem:
            # Try again even while hidden and idle: the cause may go away.
            self._problem_retry.start()
        else:
            self._problem_retry.stop()

    def _publish(
        self,
        rows: list[DownloadInfo],
        busy: bool,
        finished: list[DownloadInfo],
        by_gid: dict[str, DownloadInfo] | None = None,
    ) -> None:
        self._rows = rows
        self._by_gid = by_gid if by_gid is not None else {r.gid: r for r in rows}
        self._busy = busy
        self.downloads_refreshed.emit(rows)
        if finished:
            self.downloads_finished.emit(finished)
        self._reschedule()

    def _reschedule(self) -> None:
        """Set the refresh timer for the current situation (or stop it)."""
        timer = self._refresh_timer
        if self._stopping or self.engine.client is None:
            timer.stop()
            self._problem_retry.stop()
            return
        if self._window_visible:
            interval = REFRESH_VISIBLE_MS
        elif self._busy or self.stats.num_active > 0:
            interval = REFRESH_HIDDEN_BUSY_MS
        else:
            timer.stop()  # hidden and idle: no periodic RPC at all
            return
        if timer.interval() != interval:
            timer.setInterval(interval)
        if not timer.isActive():
            timer.start()

    @Slot(object)
    def _tasks_stats(self, stats: GlobalStat) -> None:
        # Something started or everything ended: look now, so a finished
        # download reaches the history before the timers go quiet.
        if (stats.num_active > 0) != self._busy:
            self.refresh_downloads()

    @Slot(str)
    def _tasks_engine_state(self, state: str) -> None:
        if self.engine.client is None:
            self._refresh_timer.stop()
            self.refresh_downloads()  # the rows stop showing live numbers now

    # -- details and paths ------------------------------------------------
    def fetch_details(self, gid: str, on_done: Callable[[TaskDetails | None], None]) -> None:
        """Files, URIs, peers and the error of one download; ``None`` if it is unknown.

        ``on_done`` always runs later on the GUI thread, never inside this call.
        """
        known: DownloadInfo | HistoryRecord | None = self.history.get(gid) or self._by_gid.get(gid)
        client = self.engine.client
        if client is None or isinstance(known, HistoryRecord):
            details = details_from_record(known) if known is not None else None
            QTimer.singleShot(0, lambda: on_done(details))
            return

        def fallback(_exc: BaseException) -> None:
            on_done(details_from_record(known) if known is not None else None)

        ledger, status = self.ledger, known.status if known is not None else ""

        def work() -> TaskDetails:
            details = fetch_details(client, gid)
            if status in ("paused", "waiting"):  # aria2 has not opened it: show the recorded
                shown = [DownloadInfo(gid, status, files=details.files)]
                ledger.fill_progress(shown)
                details.files = shown[0].files
            return details

        self.tasks.run(work, on_done=on_done, on_error=fallback)

    def file_path(self, gid: str) -> Path | None:
        """What "Open file" opens: the one file, or a multi-file download's own folder."""
        info = self._by_gid.get(gid)
        return open_target(info) if info is not None else None

    def folder_path(self, gid: str) -> Path | None:
        """What "Open folder" opens: the folder that holds the download."""
        info = self._by_gid.get(gid)
        return containing_folder(info) if info is not None else None

    def links(self, gids: Sequence[str]) -> list[str]:
        """The downloads' source links (a magnet for a torrent), for "Copy link"."""
        infos = [self._by_gid[g] for g in gids if g in self._by_gid]
        return list(dict.fromkeys(uri for info in infos for uri in source_links(info)))

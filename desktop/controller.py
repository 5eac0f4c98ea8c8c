"""The controller: the one facade that the tray, windows and IPC talk to.

It hides the engine, the RPC client and the link journal behind plain
methods and Qt signals. Two rules shape it:

* **A link is never lost.** ``submit`` appends to the fsync'd journal
  before it returns (the command line's links, before the event loop
  runs); ``submit_later`` (the IPC server's ``open``, drops, pastes, the
  add dialog) does so on the journal worker and calls back once the entry
  is on disk, and only then is the ``open`` acknowledged or the links
  shown as added. An entry is marked done only after
  aria2 accepted it and saved its session. A crash anywhere in between
  replays the entry at the next start.
* **fsync is not the GUI thread's job.** The journal worker (one thread, so
  entries keep their order) writes what the doorbell, drops and the add
  dialog bring, and the done-markers; an fsync takes milliseconds, and
  tens under load.
* **Nothing blocks the GUI thread on the network.** Every RPC call runs
  on the task runner; results come back as signals. Stats are polled only
  while something is downloading, so an idle app makes no RPC at all.
"""

from __future__ import annotations

import collections
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from aria2_core.atomic_file import remove_stale_temporaries
from aria2_core.config import EngineSettings
from aria2_core.intake import EntryOutcome, hand_over
from aria2_core.journal import LinkJournal
from aria2_core.models import GlobalStat
from aria2_core.paths import AppPaths
from aria2_core.rpc import Aria2Client

from .engine import Engine, EngineState
from .engine_settings_control import EngineSettingsControl
from .task_controls import TaskControls
from .tasks import TaskRunner

log = logging.getLogger("aria_tray.controller")

ACTIVE_POLL_MS = 1000
# One journal entry to write: its links, their aria2 options, where they came from.
Batch = tuple[list[str], Mapping[str, Any], str]
# A failed drain is retried after 0.5 s, 1 s, 2 s, … at most 30 s apart.
DRAIN_RETRY_FIRST_MS = 500
DRAIN_RETRY_MAX_MS = 30_000


@dataclass(frozen=True)
class Notice:
    """Something the user should be told about (shown as a tray message)."""

    title: str
    text: str
    is_error: bool = False


class Controller(TaskControls, EngineSettingsControl):
    """Facade over engine, RPC and journal. All methods run on the GUI thread."""

    engine_state_changed = Signal(str)
    engine_launched = Signal()  # aria2c was exec'd: the app builds its UI after this
    stats_changed = Signal(object)  # GlobalStat
    notice = Signal(object)  # Notice
    links_added = Signal(int)
    engine_settings_changed = Signal(object)  # EngineSettings, after apply_engine_settings

    def __init__(
        self,
        paths: AppPaths,
        settings: EngineSettings,
        parent: QObject | None = None,
        engine: Engine | None = None,
    ) -> None:
        """``engine``: one started before the controller existed (``desktop.startup``),
        adopted with its worker; by default the controller makes its own."""
        super().__init__(parent)
        self._paths = paths
        self._settings = settings
        if engine is None:
            self.tasks = TaskRunner(self)
            self.engine = Engine(paths, settings, self.tasks, self)
        else:
            self.tasks, self.engine = engine.tasks, engine
            self.tasks.setParent(self)
            engine.setParent(self)
            QTimer.singleShot(0, self._catch_up_with_engine)
        # Journal writes (fsync) off the GUI thread; one thread keeps their order.
        self._journal_tasks = TaskRunner(self, name="aria-tray-journal")
        self._journal = LinkJournal(paths.journal_file)
        self._draining = False
        self._started_at = time.time()  # journal entries older than this are replays
        # Entries a drain has sent to aria2 in this run: if they are still
        # pending, that drain failed part-way and aria2 may hold some of them.
        self._sent: set[str] = set()
        self._retry_ms = 0
        self._retry_timer = QTimer(self)
        self._retry_timer.setSingleShot(True)
        self._retry_timer.timeout.connect(self._drain)
        self._stats = GlobalStat.from_dict({})
        self._stopping = False

        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(ACTIVE_POLL_MS)
        self._poll_timer.timeout.connect(self.refresh_stats)

        self.engine.state_changed.connect(self._on_engine_state)
        self.engine.ready.connect(self._on_engine_ready)
        self.engine.launched.connect(self.engine_launched)
        self._init_task_controls()  # task list, history, per-task actions

    # -- life -------------------------------------------------------------
    def start(self) -> None:
        self._journal.compact()
        # What a crash mid-write left (we hold the lock: no other primary writes here).
        folders = self._paths.rewritten_folders
        self._journal_tasks.run(lambda: remove_stale_temporaries(folders))
        if self.engine.state == EngineState.STOPPED:  # else: adopted, already started
            self.engine.start()

    @Slot()
    def _catch_up_with_engine(self) -> None:
        """Tell, from the event loop, what an adopted engine did before we listened."""
        if self.engine.has_launched:
            self.engine_launched.emit()
        if self.engine.state == EngineState.FAILED:
            self._on_engine_state(self.engine.state)

    def stop(self, on_stopped: Any) -> None:
        """Stop polling, then the engine; ``on_stopped`` runs when aria2c is gone."""
        self._stopping = True
        self._poll_timer.stop()
        self._retry_timer.stop()
        self._note_progress_at_stop()
        self.engine.stop(on_stopped)

    def restart_engine(self) -> None:
        """The user's "Try again" after the engine failed: start aria2c afresh."""
        if self.engine.state == EngineState.FAILED:
            self.engine.restart()

    def stop_now(self, save: bool = True) -> None:
        """Blocking, bounded stop; ``save=False`` skips aria2's RPC (a forced quit)."""
        self._stopping = True
        self._poll_timer.stop()
        self._retry_timer.stop()
        self.engine.stop_now(save)
        engine_done = time.monotonic()
        # A queued journal write was never acknowledged: its sender retries elsewhere.
        self._journal_tasks.shutdown()
        self.tasks.shutdown()
        self._shutdown_settings_control()
        log.info("stop_now: tasks and settings ended in %.2f s", time.monotonic() - engine_done)

    # -- links ------------------------------------------------------------
    def submit(
        self,
        items: list[str],
        source: str,
        options: Mapping[str, str | list[str]] | None = None,
        key: str = "",
    ) -> str:
        """Journal ``items`` durably, then queue them for aria2. Returns the entry id.

        Raises ``OSError`` when the journal cannot be written: the caller must
        then refuse the links rather than pretend they were taken. ``key``: see
        :meth:`LinkJournal.append` (a request that may come again).
        """
        entry_id = self._journal.append(list(items), options or {}, source, key)
        log.info("accepted %d item(s) from %s as %s", len(items), source, entry_id)
        QTimer.singleShot(0, self._drain)
        return entry_id

    def submit_later(
        self,
        batches: Sequence[Batch] | Callable[[], Sequence[Batch]],
        on_done: Callable[[list[str]], None],
        on_error: Callable[[BaseException], None],
        keys: Sequence[str] = (),
    ) -> None:
        """Journal ``batches`` (one entry each, in order) on the journal worker.

        ``keys``, one per batch when given, make the appends idempotent (the
        doorbell's ``open``: see :meth:`LinkJournal.append`).

        ``on_done(entry_ids)`` runs on the GUI thread once every entry is
        durably on disk; ``on_error`` gets the ``OSError`` of a journal that
        cannot be written (entries before it are kept, as with ``submit``).
        ``batches`` may be a function that makes them: it runs on the
        worker first, so a drop's links are parsed and checked there, not
        on the GUI thread. Once shut down, it all runs at once, on this thread.
        """
        journal = self._journal
        made: list[Batch] = []

        def write() -> list[str]:
            made.extend(batches() if callable(batches) else batches)
            keyed = list(keys) or [""] * len(made)
            return [
                journal.append(list(links), dict(opts), src, key)
                for (links, opts, src), key in zip(made, keyed, strict=True)
            ]

        def written(entry_ids: list[str]) -> None:
            for entry_id, (items, _options, source) in zip(entry_ids, made, strict=True):
                log.info("accepted %d item(s) from %s as %s", len(items), source, entry_id)
            if entry_ids:
                QTimer.singleShot(0, self._drain)
            on_done(entry_ids)

        if self._journal_tasks.run(write, on_done=written, on_error=on_error):
            return
        try:
            entry_ids = write()
        except Exception as exc:
            on_error(exc)
            return
        written(entry_ids)

    def pending_count(self) -> int:
        return sum(len(e.items) for e in self._journal.pending())

    @Slot()
    def _drain(self) -> None:
        """Send pending journal entries to aria2, one batch at a time."""
        client = self.engine.client
        if self._draining or client is None or self._stopping:
            return
        pending = self._journal.pending()
        if not pending:
            return
        self._draining = True
        self._retry_timer.stop()
        entries = pending[:50]
        retried = frozenset(e.id for e in entries if e.id in self._sent)
        self._sent.update(e.id for e in entries)
        started, ledger, history = self._started_at, self.ledger, self.history
        default_dir = str(self._settings.download_dir)

        def send() -> list[EntryOutcome]:
            return hand_over(
                client, entries, started, ledger, default_dir, retried=retried, history=history
            )

        self.tasks.run(send, on_done=self._drained, on_error=self._drain_failed)

    def _drained(self, outcomes: list[EntryOutcome]) -> None:
        self._retry_ms = 0
        added = 0
        done = [outcome.entry.id for outcome in outcomes]
        for outcome in outcomes:
            added += len(outcome.gids)
            if outcome.already_there:
                log.info("%d replayed link(s) were already in aria2", outcome.already_there)
            for problem in outcome.problems:
                log.warning("not added (%s): %s", outcome.entry.source, problem)
            if outcome.problems:
                text = "\n".join(outcome.problems[:10])
                title = (
                    self.tr("Some links were not added")
                    if outcome.gids or outcome.already_there
                    else self.tr("No link was added")
                )
                self.notice.emit(Notice(title, text, is_error=True))
        journal = self._journal

        def record() -> None:  # on the journal worker: its fsyncs are not the GUI's
            journal.mark_done(*done)
            journal.compact()

        def recorded(_: object) -> None:
            # Only now: a drain before this would find these entries pending again.
            self._draining = False
            self._sent.difference_update(done)
            if added:
                self.links_added.emit(added)
            self.wake_polling()
            QTimer.singleShot(0, self._drain)

        def not_recorded(exc: BaseException) -> None:
            # aria2 has them; the entries stay pending, and the retry's check
            # against aria2's queue keeps them from being added twice.
            log.warning("could not mark %d journal entries done: %s", len(done), exc)
            if added:
                self.links_added.emit(added)
            self._drain_failed(exc)

        if not self._journal_tasks.run(record, on_done=recorded, on_error=not_recorded):
            self._draining = False  # shut down: the next start replays and de-duplicates

    def _drain_failed(self, exc: BaseException) -> None:
        """Keep the entries and try again later, with backoff.

        aria2 may have taken some of them before the failure (a timeout while
        it was busy): the retry checks them against its queue first.
        """
        self._draining = False
        self._retry_ms = min(max(2 * self._retry_ms, DRAIN_RETRY_FIRST_MS), DRAIN_RETRY_MAX_MS)
        log.warning(
            "could not hand links to aria2 yet: %s; retrying in %.1f s", exc, self._retry_ms / 1000
        )
        if not self._stopping:
            self._retry_timer.start(self._retry_ms)

    # -- actions ----------------------------------------------------------
    def pause_all(self) -> None:
        self._call(lambda c: c.pause_all(), self.tr("Pause all"))

    def resume_all(self) -> None:
        self._call(lambda c: c.unpause_all(), self.tr("Resume all"))

    def save_session(self) -> None:
        self._call(lambda c: c.save_session(), self.tr("Save session"))

    def save_session_now(self) -> bool:
        """Save aria2's session before returning (the OS session is ending)."""
        return self.engine.save_session_now()

    def download_dir(self) -> Path:
        return Path(self._settings.download_dir)

    def _call(self, fn: Any, what: str) -> None:
        client = self.engine.client
        if client is None:
            self.notice.emit(Notice(what, self._not_ready_text(), is_error=True))
            return

        def done(_: object) -> None:
            self.wake_polling()

        def failed(exc: BaseException) -> None:
            self.notice.emit(
                Notice(self.tr("{what} failed").format(what=what), str(exc), is_error=True)
            )

        self.tasks.run(lambda: fn(client), on_done=done, on_error=failed)

    def _not_ready_text(self) -> str:
        if self.engine.state == EngineState.FAILED:
            return self.tr("The download engine is stopped: {error}").format(
                error=self.engine.error
            )
        return self.tr("The download engine is still starting; try again in a moment.")

    # -- stats ------------------------------------------------------------
    @property
    def stats(self) -> GlobalStat:
        return self._stats

    @Slot()
    def refresh_stats(self) -> None:
        client = self.engine.client
        if client is None:
            self._poll_timer.stop()
            return
        self.tasks.run(
            lambda: GlobalStat.from_dict(client.get_global_stat()),
            on_done=lambda stats: self._got_stats(stats, client),
            on_error=lambda exc: log.debug("stats: %s", exc),
        )

    def wake_polling(self) -> None:
        """Poll now, and keep polling while anything is active."""
        if self._stopping:
            return
        self.refresh_stats()

    def _got_stats(self, stats: GlobalStat, asked: Aria2Client) -> None:
        if asked is not self.engine.client:
            # That aria2c stopped between answering and now (each start has a
            # client of its own): its numbers are of an engine that is gone.
            return
        if stats.num_active == 0 and (stats.download_speed or stats.upload_speed):
            # aria2's global speed is a moving average that stops updating when
            # no download runs: with nothing active it would freeze at the last
            # non-zero value (paused, finished). Nothing active moves nothing.
            stats = replace(stats, download_speed=0, upload_speed=0)
        self._stats = stats
        self.stats_changed.emit(stats)
        busy = stats.num_active > 0
        if busy and not self._poll_timer.isActive() and not self._stopping:
            self._poll_timer.start()
        elif not busy and self._poll_timer.isActive():
            self._poll_timer.stop()  # idle: no periodic RPC at all

    # -- engine -----------------------------------------------------------
    @Slot(str)
    def _on_engine_state(self, state: str) -> None:
        if state != EngineState.READY:
            self._poll_timer.stop()
            if self._stats != GlobalStat():
                # No engine, no transfer: the last numbers would be stale.
                self._stats = GlobalStat()
                self.stats_changed.emit(self._stats)
        if state == EngineState.FAILED:
            self.notice.emit(Notice(self.tr("Download engine stopped"), self.engine.error, True))
        self.engine_state_changed.emit(state)

    @Slot()
    def _on_engine_ready(self) -> None:
        self._send_pending_live()
        self._drain()
        self.wake_polling()

    # -- status (for --status and the tooltip) ----------------------------
    def status(self) -> dict[str, Any]:
        """What ``--status`` prints: counts from the list the window shows, history included.

        aria2's own ``numStopped`` counts only what it still holds, and
        finished downloads move to the history at once, so it is not used.
        """
        stats = self._stats
        by_status = collections.Counter(r.status for r in self.downloads())
        return {
            "running": True,
            "app_pid": os.getpid(),
            "aria2c_pid": self.engine.pid,
            "port": self.engine.port,
            "engine_state": str(self.engine.state),
            "engine_error": self.engine.error,
            "home": str(self._paths.home),
            "counts": {
                "active": by_status["active"],
                "waiting": by_status["waiting"] + by_status["paused"],
                "paused": by_status["paused"],
                "stopped": by_status["complete"] + by_status["error"] + by_status["removed"],
                "complete": by_status["complete"],
                "failed": by_status["error"] + by_status["removed"],
            },
            "download_speed": stats.download_speed,
            "upload_speed": stats.upload_speed,
            "pending_links": self.pending_count(),
        }

"""What you can do to a download: pause, resume, remove, retry, move, limit, select files.

Part of the controller (``Controller`` → ``TaskControls`` → ``TaskActions``),
in its own module so each file holds one idea. Every action is one job on
the RPC worker, usually one ``system.multicall``, and ends with
``aria2.saveSession``: aria2 writes ``pause=true`` for a paused download,
which is what keeps it paused across a restart or a crash. Problems come
back as one notice per action; ``on_done`` (optional) gets the
:class:`~aria2_core.task_ops.ActionResult` on the GUI thread. The list is
refreshed right after, so the window shows the change at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, SignalInstance

from aria2_core.history import HistoryRecord, HistoryStore
from aria2_core.ledger import DownloadLedger
from aria2_core.models import DownloadInfo
from aria2_core.retry import retry_downloads
from aria2_core.rpc import Aria2Client
from aria2_core.task_ops import (
    ActionResult,
    begin_remove,
    finish_remove,
    move,
    run_per_gid,
    select_file_option,
)

if TYPE_CHECKING:
    from .engine import Engine
    from .tasks import TaskRunner

REMOVAL_CHECK_MS = 100
REMOVAL_MAX_CHECKS = 50  # 5 s for aria2 to close a removed download's files

ActionCallback = Callable[[ActionResult], None]


class TaskActions(QObject):
    """Per-task actions; relies on the list state that ``TaskControls`` keeps."""

    if TYPE_CHECKING:
        engine: Engine
        tasks: TaskRunner
        history: HistoryStore
        ledger: DownloadLedger
        notice: SignalInstance
        _by_gid: dict[str, DownloadInfo]

        def refresh_downloads(self) -> None: ...
        def wake_polling(self) -> None: ...
        def _not_ready_text(self) -> str: ...

    def _gids_with(self, gids: Sequence[str], statuses: tuple[str, ...]) -> list[str]:
        known = self._by_gid
        return [g for g in gids if g in known and known[g].status in statuses]

    def _run_action(
        self,
        title: str,
        work: Callable[[Aria2Client], ActionResult],
        on_done: ActionCallback | None = None,
        need_engine: bool = True,
    ) -> bool:
        """Run ``work`` on the worker; report problems as a notice; refresh after."""
        client = self.engine.client
        if client is None and need_engine:
            self.notice.emit(_notice(title, self._not_ready_text(), True))
            if on_done is not None:
                on_done(ActionResult(problems=[self._not_ready_text()]))
            return False

        def done(result: ActionResult) -> None:
            if result.problems:
                text = "\n".join(result.problems[:10])
                self.notice.emit(_notice(title, text, True))
            self._after_change()
            if on_done is not None:
                on_done(result)

        def failed(exc: BaseException) -> None:
            done(ActionResult(problems=[str(exc)]))

        self.tasks.run(lambda: work(client), on_done=done, on_error=failed)  # type: ignore[arg-type]
        return True

    def _after_change(self) -> None:
        self.refresh_downloads()
        self.wake_polling()

    def pause(self, gids: Sequence[str], on_done: ActionCallback | None = None) -> bool:
        """Pause active or waiting downloads (others in ``gids`` are skipped)."""
        chosen = self._gids_with(gids, ("active", "waiting"))
        return self._run_action(
            QCoreApplication.translate("TaskActions", "Pause failed"),
            lambda c: run_per_gid(c, "aria2.pause", chosen),
            on_done,
        )

    def resume(self, gids: Sequence[str], on_done: ActionCallback | None = None) -> bool:
        """Resume paused downloads (others in ``gids`` are skipped)."""
        chosen = self._gids_with(gids, ("paused",))
        return self._run_action(
            QCoreApplication.translate("TaskActions", "Resume failed"),
            lambda c: run_per_gid(c, "aria2.unpause", chosen),
            on_done,
        )

    def move_up(self, gids: Sequence[str], on_done: ActionCallback | None = None) -> bool:
        return self._run_action(
            QCoreApplication.translate("TaskActions", "Move failed"),
            lambda c: move(c, list(gids), -1),
            on_done,
        )

    def move_down(self, gids: Sequence[str], on_done: ActionCallback | None = None) -> bool:
        return self._run_action(
            QCoreApplication.translate("TaskActions", "Move failed"),
            lambda c: move(c, list(gids), 1),
            on_done,
        )

    def set_task_speed_limit(
        self, gid: str, bytes_per_s: int, on_done: ActionCallback | None = None
    ) -> bool:
        """Limit one download's speed; 0 means unlimited."""
        limit = str(max(0, int(bytes_per_s)))
        return self._change_option(
            QCoreApplication.translate("TaskActions", "Speed limit not set"),
            gid,
            {"max-download-limit": limit},
            on_done,
        )

    def select_files(
        self, gid: str, indexes: Sequence[int], on_done: ActionCallback | None = None
    ) -> bool:
        """Download only these files (1-based, as aria2 numbers them) of a torrent/metalink."""
        value = select_file_option(indexes)
        return self._change_option(
            QCoreApplication.translate("TaskActions", "File selection not changed"),
            gid,
            {"select-file": value},
            on_done,
        )

    def _change_option(
        self, title: str, gid: str, options: dict[str, str], on_done: ActionCallback | None
    ) -> bool:
        """``aria2.changeOption`` for one download; the ledger remembers what aria2 took,
        so a Retry or a restore brings the download back with it."""
        ledger = self.ledger

        def work(client: Aria2Client) -> ActionResult:
            result = run_per_gid(client, "aria2.changeOption", [gid], options)
            ledger.update_options({g: options for g in result.done})
            return result

        return self._run_action(title, work, on_done)

    def retry(self, gids: Sequence[str], on_done: ActionCallback | None = None) -> bool:
        """Add failed downloads again as they were added, then forget the failed entries."""
        sources: list[DownloadInfo | HistoryRecord] = []
        for gid in gids:
            source = self.history.get(gid) or self._by_gid.get(gid)
            if source is not None and source.status in ("error", "removed"):
                sources.append(source)
        history, ledger = self.history, self.ledger

        def work(client: Aria2Client) -> ActionResult:
            result = retry_downloads(client, sources, history, ledger)
            result.problems += [
                QCoreApplication.translate("TaskActions", "{name}: no link to retry").format(
                    name=name
                )
                for name in result.skipped
            ]
            return result

        title = QCoreApplication.translate("TaskActions", "Retry failed")
        return self._run_action(title, work, on_done)

    def remove(
        self, gids: Sequence[str], delete_files: bool = False, on_done: ActionCallback | None = None
    ) -> bool:
        """Remove downloads; delete their files and control files only if asked.

        History entries are just dropped from the history. A live download is
        removed from aria2, and its files are deleted only once aria2 has
        closed them, which takes a removal a moment.
        """
        history, ledger = self.history, self.ledger
        chosen = list(gids)

        def started(result: ActionResult) -> None:
            pending: dict[str, DownloadInfo] = result.value or {}
            if pending:
                self._finish_removal(pending, delete_files, result, on_done, 0)
            elif on_done is not None:
                on_done(result)

        return self._run_action(
            QCoreApplication.translate("TaskActions", "Remove failed"),
            lambda c: begin_remove(c, history, chosen, delete_files, ledger),
            started,
            need_engine=any(g not in history for g in chosen),
        )

    def _finish_removal(
        self,
        pending: dict[str, DownloadInfo],
        delete_files: bool,
        result: ActionResult,
        on_done: ActionCallback | None,
        checks: int,
    ) -> None:
        """Re-check shortly until aria2 let go of the removed downloads (bounded)."""
        client = self.engine.client
        if client is None:
            if on_done is not None:
                on_done(result)
            return
        last_try = checks >= REMOVAL_MAX_CHECKS

        def done(busy: list[str]) -> None:
            if busy:
                QTimer.singleShot(
                    REMOVAL_CHECK_MS,
                    lambda: self._finish_removal(
                        pending, delete_files, result, on_done, checks + 1
                    ),
                )
                return
            self._after_change()
            if on_done is not None:
                on_done(result)

        def failed(exc: BaseException) -> None:
            result.problems.append(str(exc))
            title = QCoreApplication.translate("TaskActions", "Remove failed")
            self.notice.emit(_notice(title, str(exc), True))
            if on_done is not None:
                on_done(result)

        self.tasks.run(
            lambda: finish_remove(client, pending, delete_files, last_try),
            on_done=done,
            on_error=failed,
        )

    def clear_history(self, on_done: ActionCallback | None = None) -> bool:
        """Forget every completed and failed entry (files stay on disk)."""
        history = self.history

        def work(_client: Aria2Client | None) -> ActionResult:
            return ActionResult(value=history.clear())

        return self._run_action(
            QCoreApplication.translate("TaskActions", "Clear history failed"),
            work,
            on_done,
            need_engine=False,
        )


def _notice(title: str, text: str, is_error: bool) -> Any:
    from .controller import Notice  # the controller module imports us first

    return Notice(title, text, is_error)

"""The controller's task list and per-task actions against a real aria2c and HTTP server.

The controller is driven directly (no CLI, no window): links go in through
``submit``, the list comes out of ``downloads_refreshed``, actions are the
controller's methods. Every controller is stopped in the fixture, whatever
the test did, and its app home (a short path: AF_UNIX) removed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aria2_core.config import EngineSettings
from aria2_core.models import DownloadInfo, TaskDetails
from aria2_core.paths import AppPaths
from aria2_core.task_ops import ActionResult
from desktop.controller import Controller
from desktop.task_controls import REFRESH_HIDDEN_BUSY_MS, REFRESH_VISIBLE_MS
from support.fixture_files import multi_file_torrent
from support.http_server import FileServer, PayloadFactory, make_payload, sha256_of

WAIT_MS = 30_000
SLOW = 64 * 1024  # bytes/s per connection: slow enough to pause or remove mid-way


class World:
    """One app home, its download folder, and every controller started on it."""

    def __init__(self, qtbot: Any, download_dir: Path) -> None:
        self.qtbot = qtbot
        self.home = Path(tempfile.mkdtemp(prefix="at-"))
        self.download_dir = download_dir
        self.controllers: list[Controller] = []

    def controller(self, visible: bool = True) -> Controller:
        paths = AppPaths.for_home(self.home)
        paths.ensure()
        controller = Controller(paths, EngineSettings(download_dir=self.download_dir))
        self.controllers.append(controller)
        with self.qtbot.waitSignal(controller.engine.ready, timeout=WAIT_MS):
            controller.start()
        controller.set_window_visible(visible)
        return controller

    def stop(self, controller: Controller) -> None:
        """The orderly stop the app uses: save the session, end aria2c, wait."""
        stopped: list[bool] = []
        controller.stop(lambda: stopped.append(True))
        self.qtbot.waitUntil(lambda: bool(stopped), timeout=WAIT_MS)
        controller.tasks.shutdown()

    def close(self) -> None:
        for controller in self.controllers:
            controller.stop_now()
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture
def world(qtbot: Any, tmp_path: Path) -> Iterator[World]:
    w = World(qtbot, tmp_path / "downloads")
    try:
        yield w
    finally:
        w.close()


def rows_where(
    qtbot: Any, c: Controller, predicate: Callable[[list[DownloadInfo]], Any]
) -> list[DownloadInfo]:
    """Wait until the controller's rows satisfy ``predicate``; return them."""
    qtbot.waitUntil(lambda: bool(predicate(c.downloads())), timeout=WAIT_MS)
    return c.downloads()


def by_url(rows: list[DownloadInfo], url: str) -> DownloadInfo | None:
    for info in rows:
        if any(url in f.uris for f in info.files):
            return info
    return None


def wait_row(
    qtbot: Any, c: Controller, url: str, status: str, history: bool | None = None
) -> DownloadInfo:
    def match(rows: list[DownloadInfo]) -> bool:
        info = by_url(rows, url)
        if info is None or info.status != status:
            return False
        return history is None or getattr(info, "from_history", False) == history

    found = by_url(rows_where(qtbot, c, match), url)
    assert found is not None
    return found


def run(qtbot: Any, start: Callable[[Callable[[ActionResult], None]], object]) -> ActionResult:
    """Start an action with an ``on_done`` and wait for its result."""
    results: list[ActionResult] = []
    start(results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT_MS)
    return results[0]


# -- the list -----------------------------------------------------------------------
def test_three_urls_complete_and_become_completed_rows(
    qtbot: Any, world: World, payload_factory: PayloadFactory
) -> None:
    payloads = [payload_factory(f"three-{n}.bin", 300_000 + n) for n in range(3)]
    c = world.controller()
    c.submit([p.url for p in payloads], source="test")
    for p in payloads:
        info = wait_row(qtbot, c, p.url, "complete", history=True)
        assert info.total_length == p.size
        assert sha256_of(world.download_dir / p.name) == p.sha256
    assert len(c.history) == 3
    # aria2 forgot them: they live only in the app's history now.
    client = c.engine.client
    assert client is not None
    assert client.tell_stopped(0, 10, ["gid"]) == []


def test_pause_and_resume(
    qtbot: Any, world: World, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    payload = payload_factory("pause.bin", 4 * 1024 * 1024)
    http_server.throttle = SLOW
    c = world.controller()
    c.submit([payload.url], source="test")
    gid = wait_row(qtbot, c, payload.url, "active").gid
    assert run(qtbot, lambda done: c.pause([gid], done)).done == [gid]
    wait_row(qtbot, c, payload.url, "paused")
    assert run(qtbot, lambda done: c.resume([gid], done)).done == [gid]
    http_server.throttle = None
    wait_row(qtbot, c, payload.url, "complete")
    assert sha256_of(world.download_dir / payload.name) == payload.sha256


def test_remove_deletes_files_only_when_asked(
    qtbot: Any, world: World, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    kept_done, gone_done = payload_factory("keep.bin", 50_000), payload_factory("gone.bin", 50_000)
    c = world.controller()
    c.submit([kept_done.url, gone_done.url], source="test")
    keep = wait_row(qtbot, c, kept_done.url, "complete", history=True)
    gone = wait_row(qtbot, c, gone_done.url, "complete", history=True)
    run(qtbot, lambda done: c.remove([keep.gid], False, done))
    run(qtbot, lambda done: c.remove([gone.gid], True, done))
    assert (world.download_dir / "keep.bin").is_file()
    assert not (world.download_dir / "gone.bin").exists()

    kept_partial = payload_factory("partial-keep.bin", 4 * 1024 * 1024)
    gone_partial = payload_factory("partial-gone.bin", 4 * 1024 * 1024)
    http_server.throttle = SLOW
    c.submit([kept_partial.url, gone_partial.url], source="test")
    live_keep = wait_row(qtbot, c, kept_partial.url, "active")
    live_gone = wait_row(qtbot, c, gone_partial.url, "active")
    qtbot.waitUntil(
        lambda: (world.download_dir / "partial-gone.bin.aria2").exists(), timeout=WAIT_MS
    )
    assert run(qtbot, lambda done: c.remove([live_keep.gid], False, done)).problems == []
    assert run(qtbot, lambda done: c.remove([live_gone.gid], True, done)).problems == []
    assert (world.download_dir / "partial-keep.bin").exists()
    assert not (world.download_dir / "partial-gone.bin").exists()
    assert not (world.download_dir / "partial-gone.bin.aria2").exists()
    rows = rows_where(qtbot, c, lambda rows: by_url(rows, kept_partial.url) is None)
    assert by_url(rows, gone_partial.url) is None
    assert {r.gid for r in rows}.isdisjoint({keep.gid, gone.gid, live_keep.gid, live_gone.gid})


def test_paused_task_stays_paused_after_a_restart(
    qtbot: Any, world: World, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    payload = payload_factory("stays-paused.bin", 4 * 1024 * 1024)
    http_server.throttle = SLOW
    c = world.controller()
    c.submit([payload.url], source="test")
    gid = wait_row(qtbot, c, payload.url, "active").gid
    run(qtbot, lambda done: c.pause([gid], done))
    wait_row(qtbot, c, payload.url, "paused")
    world.stop(c)

    again = world.controller()
    info = wait_row(qtbot, again, payload.url, "paused")
    assert info.completed_length < payload.size
    client = again.engine.client
    assert client is not None
    assert client.tell_active(["gid"]) == []


def test_completed_history_survives_a_restart(
    qtbot: Any, world: World, payload_factory: PayloadFactory
) -> None:
    payload = payload_factory("remembered.bin", 100_000)
    c = world.controller()
    c.submit([payload.url], source="test")
    done = wait_row(qtbot, c, payload.url, "complete", history=True)
    world.stop(c)

    paths = AppPaths.for_home(world.home)
    # Before the engine is even up, the new controller already lists it.
    fresh = Controller(paths, EngineSettings(download_dir=world.download_dir))
    world.controllers.append(fresh)
    early = by_url(fresh.downloads(), payload.url)
    assert early is not None and early.gid == done.gid and early.status == "complete"
    with qtbot.waitSignal(fresh.engine.ready, timeout=WAIT_MS):
        fresh.start()
    fresh.set_window_visible(True)
    info = wait_row(qtbot, fresh, payload.url, "complete", history=True)
    assert fresh.file_path(info.gid) == world.download_dir / "remembered.bin"
    assert fresh.folder_path(info.gid) == world.download_dir
    assert fresh.links([info.gid]) == [payload.url]


# -- more actions ---------------------------------------------------------------------
def test_failed_download_is_kept_with_its_error_and_can_be_retried(
    qtbot: Any, world: World, http_server: FileServer
) -> None:
    url = http_server.url("later.bin")
    c = world.controller()
    c.submit([url], source="test")
    failed = wait_row(qtbot, c, url, "error", history=True)
    assert failed.error_message
    # Forgotten by aria2 and gone from its session: it would retry it at the next start.
    session = AppPaths.for_home(world.home).session_file
    qtbot.waitUntil(lambda: url not in session.read_text(), timeout=WAIT_MS)

    details: list[TaskDetails | None] = []
    c.fetch_details(failed.gid, details.append)
    qtbot.waitUntil(lambda: bool(details), timeout=WAIT_MS)
    assert details[0] is not None and details[0].error_message == failed.error_message

    _, digest = make_payload(http_server.root, "later.bin", 20_000)
    assert run(qtbot, lambda done: c.retry([failed.gid], done)).done == [failed.gid]
    info = wait_row(qtbot, c, url, "complete", history=True)
    assert info.gid != failed.gid and failed.gid not in c.history
    assert sha256_of(world.download_dir / "later.bin") == digest


def test_queue_moves_speed_limit_and_file_selection(
    qtbot: Any, world: World, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    first, second = payload_factory("q1.bin", 1000), payload_factory("q2.bin", 1000)
    c = world.controller()
    c.submit([first.url, second.url], source="test", options={"pause": "true"})
    one = wait_row(qtbot, c, first.url, "paused").gid
    two = wait_row(qtbot, c, second.url, "paused").gid
    client = c.engine.client
    assert client is not None
    assert [d["gid"] for d in client.tell_waiting(0, 10, ["gid"])] == [one, two]
    assert run(qtbot, lambda done: c.move_down([one], done)).done == [one]
    assert [d["gid"] for d in client.tell_waiting(0, 10, ["gid"])] == [two, one]
    run(qtbot, lambda done: c.move_up([one], done))
    assert [d["gid"] for d in client.tell_waiting(0, 10, ["gid"])] == [one, two]

    run(qtbot, lambda done: c.set_task_speed_limit(one, 100 * 1024, done))
    assert client.get_option(one)["max-download-limit"] == str(100 * 1024)

    torrent = multi_file_torrent(world.download_dir.parent / "pair.torrent", "pair", [1000, 2000])
    c.submit([str(torrent)], source="test", options={"pause": "true"})
    rows = rows_where(qtbot, c, lambda rows: [r for r in rows if r.name == "pair"])
    gid = next(r.gid for r in rows if r.name == "pair")
    run(qtbot, lambda done: c.select_files(gid, [2], done))
    assert client.get_option(gid)["select-file"] == "2"
    details: list[TaskDetails | None] = []
    c.fetch_details(gid, details.append)
    qtbot.waitUntil(lambda: bool(details), timeout=WAIT_MS)
    assert details[0] is not None and details[0].is_torrent
    assert [f.selected for f in details[0].files] == [False, True]
    assert [f.selected for f in details[0].files] == [False, True]


def test_clear_history(qtbot: Any, world: World, payload_factory: PayloadFactory) -> None:
    payload = payload_factory("forget-me.bin", 1000)
    c = world.controller()
    c.submit([payload.url], source="test")
    wait_row(qtbot, c, payload.url, "complete", history=True)
    assert run(qtbot, c.clear_history).value == 1
    rows_where(qtbot, c, lambda rows: by_url(rows, payload.url) is None)
    assert (world.download_dir / "forget-me.bin").is_file()  # files stay


# -- refresh policy ---------------------------------------------------------------------
def test_refresh_pace_follows_the_window_and_stops_when_hidden_and_idle(
    qtbot: Any, world: World, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    c = world.controller(visible=False)
    qtbot.waitUntil(lambda: c.refresh_interval_ms() is None, timeout=WAIT_MS)
    c.set_window_visible(True)
    assert c.refresh_interval_ms() == REFRESH_VISIBLE_MS

    payload = payload_factory("busy.bin", 2 * 1024 * 1024)
    http_server.throttle = SLOW
    c.submit([payload.url], source="test")
    wait_row(qtbot, c, payload.url, "active")
    c.set_window_visible(False)
    qtbot.waitUntil(lambda: c.refresh_interval_ms() == REFRESH_HIDDEN_BUSY_MS, timeout=WAIT_MS)

    http_server.throttle = None
    # Hidden: the download finishing still reaches the history, then everything goes quiet.
    qtbot.waitUntil(lambda: len(c.history) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: c.refresh_interval_ms() is None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not c._poll_timer.isActive(), timeout=WAIT_MS)


# -- errors on the worker ------------------------------------------------------------
def test_unwritable_history_neither_freezes_the_list_nor_loses_a_download(
    qtbot: Any, world: World, payload_factory: PayloadFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A history that can't be written is reported (with its traceback) and the list goes on.

    The finished download stays in aria2 (so nothing is lost) and shows as a
    row; once the cause goes away the next refresh moves it into the history
    and the problem is cleared.
    """
    payload = payload_factory("history-blocked.bin", 200_000)
    c = world.controller()
    history_file = c.history.path
    history_file.unlink(missing_ok=True)
    history_file.mkdir()  # a folder where the file should be: every save fails
    problems: list[str] = []
    c.list_problem.connect(problems.append)

    c.submit([payload.url], source="test")
    info = wait_row(qtbot, c, payload.url, "complete", history=False)
    assert sha256_of(world.download_dir / payload.name) == payload.sha256
    qtbot.waitUntil(lambda: bool(problems) and problems[-1] != "", timeout=WAIT_MS)
    assert str(history_file) in problems[-1]
    client = c.engine.client
    assert client is not None
    kept = client.tell_stopped(0, 10, ["gid"])
    assert [t["gid"] for t in kept] == [info.gid]  # still in aria2: not lost
    tracebacks = [r for r in caplog.records if r.name.startswith("aria_tray") and r.exc_info]
    assert tracebacks, "the failure was logged without its traceback"

    history_file.rmdir()  # the cause goes away
    c.refresh_downloads()
    wait_row(qtbot, c, payload.url, "complete", history=True)
    qtbot.waitUntil(lambda: problems[-1] == "", timeout=WAIT_MS)
    assert client.tell_stopped(0, 10, ["gid"]) == []
    assert len(c.history) == 1

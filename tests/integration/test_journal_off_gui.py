"""The journal's fsyncs run off the GUI thread, and an ``open`` is still acked only once on disk.

A real ``PrimaryApp`` in this process (instance lock, IPC server, real
aria2c); clients talk to its real doorbell (a socket; on Windows a named
pipe) from threads, as second launches would. To see the order of events
without timing, the test holds the journal's write lock (a disk that does
not answer): while it does, an ``open`` must stay unanswered and its entry
must not be on disk, and yet the GUI thread keeps serving (a ``status`` is
answered). Released, the reply names exactly the entries a fresh reader
finds on disk. Every fsync of opens and drains is watched: none may run on
the GUI thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from aria2_core.journal import LinkJournal
from desktop.app import PrimaryApp
from desktop.ipc_client import send_request
from support.app_world import WAIT_MS, AppWorld, in_thread


@pytest.fixture
def primary(world: AppWorld, qtbot: Any) -> Iterator[PrimaryApp]:
    app = world.primary()
    app.start([])
    qtbot.waitUntil(lambda: app.controller.engine.client is not None, timeout=WAIT_MS)
    yield app


def hold(runner: Any) -> threading.Event:
    """Occupy ``runner``'s single worker until the returned event is set."""
    release = threading.Event()
    runner.run(lambda: release.wait(60))
    return release


def test_open_is_acked_only_after_the_journal_worker_wrote_it(
    primary: PrimaryApp, world: AppWorld, qtbot: Any
) -> None:
    no_drain = hold(primary.controller.tasks)  # so the entry stays pending to be seen
    # Holding the journal's write lock stands for a slow disk: every append
    # waits. Before, that was the GUI thread (a safety timer lets it go).
    write_lock = primary.controller._journal._lock
    write_lock.acquire()
    once = threading.Lock()

    def let_go() -> None:
        if once.acquire(blocking=False):
            write_lock.release()

    safety = threading.Timer(10.0, let_go)
    safety.start()
    name = world.paths.server_name
    link = "http://127.0.0.1:9/held.bin"
    try:
        opened = in_thread(
            lambda: send_request(name, "open", {"items": [link], "cwd": "/"}, timeout=30)
        )
        # The server has read the whole request and handed it on.
        qtbot.waitUntil(
            lambda: opened.done() or any(c.closing for c in primary.server._conns),
            timeout=WAIT_MS,
        )
        status = in_thread(lambda: send_request(name, "status", {}, timeout=30))
        qtbot.waitUntil(status.done, timeout=WAIT_MS)  # the GUI thread is free meanwhile
        assert status.result()["running"] is True
        assert not opened.done(), "the GUI thread waited for the disk (or acked too early)"
        assert LinkJournal(world.paths.journal_file).pending() == []
        safety.cancel()
        let_go()
        qtbot.waitUntil(opened.done, timeout=WAIT_MS)
        reply = opened.result()
        assert reply["accepted"] == 1
        on_disk = LinkJournal(world.paths.journal_file).pending()
        assert [e.id for e in on_disk] == reply["entries"]
        assert on_disk[0].items == (link,)
    finally:
        safety.cancel()
        let_go()
        no_drain.set()
    qtbot.waitUntil(lambda: primary.controller.pending_count() == 0, timeout=WAIT_MS)


def test_opens_and_drains_make_no_fsync_on_the_gui_thread_and_keep_their_order(
    primary: PrimaryApp, world: AppWorld, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    gui = threading.get_ident()
    fsyncs: list[bool] = []  # True: on the GUI thread
    real_fsync = os.fsync

    def watched(fd: int) -> None:
        fsyncs.append(threading.get_ident() == gui)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", watched)
    name = world.paths.server_name
    links = [f"http://127.0.0.1:9/order-{n:02d}.bin" for n in range(20)]

    def send_all() -> list[str]:
        return [
            send_request(name, "open", {"items": [link], "cwd": "/"})["entry"] for link in links
        ]

    no_drain = hold(primary.controller.tasks)  # the done-markers come after the order check
    try:
        sent = in_thread(send_all)
        qtbot.waitUntil(sent.done, timeout=WAIT_MS)
        entry_ids = sent.result()
        assert len(set(entry_ids)) == len(links)
        # On disk in the order they were acknowledged, each with its own link.
        on_disk = LinkJournal(world.paths.journal_file).pending()
        assert [e.id for e in on_disk] == entry_ids
        assert [e.items for e in on_disk] == [(link,) for link in links]
    finally:
        no_drain.set()
    qtbot.waitUntil(lambda: primary.controller.pending_count() == 0, timeout=WAIT_MS)
    assert LinkJournal(world.paths.journal_file).pending() == []  # done-markers on disk
    assert fsyncs, "nothing was fsync'd: the journal was not written"
    assert not any(fsyncs), f"{sum(fsyncs)} of {len(fsyncs)} fsyncs ran on the GUI thread"

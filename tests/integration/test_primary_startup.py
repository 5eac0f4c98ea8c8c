"""The primary's start-up order: the doorbell and aria2c first, the UI after (issue 11).

A real ``PrimaryApp`` in this process, with its real instance lock, IPC
server and aria2c: the widget code (tray, dialogs' owner, first-run window)
is built only once aria2c was launched, and whatever arrives on the
doorbell before that is journaled and acknowledged as always. Clients talk
to the real doorbell (a socket; on Windows a named pipe) from a thread, as
a second launch would. To hold the "before the UI" moment open without
timing, a job occupies the controller's single worker thread: the engine's
orphan check after a crash (and so the launch) queues behind it.
"""

from __future__ import annotations

import os
import threading
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from aria2_core.ipc_protocol import decode_reply, encode_request
from aria2_core.journal import LinkJournal
from aria2_core.ownership import OwnershipRecord, write_record
from aria2_core.paths import AppPaths
from desktop import app as app_module
from desktop import single_instance
from desktop.app import PrimaryApp
from desktop.ipc_client import send_request
from support.app_world import WAIT_MS, AppWorld, in_thread
from support.raw_ipc import RawClient


def hold_worker(primary: PrimaryApp, paths: AppPaths) -> threading.Event:
    """Hold the launch back: occupy the controller's worker until the returned event is set.

    Only a start after a crash checks for orphans on that worker (with no
    ownership record on disk aria2c is launched at once), so a record a
    crashed app left, naming an aria2c long gone, is planted first.
    """
    write_record(paths, OwnershipRecord(2**22 + 1, 1.0, "aria2c", str(paths.conf_file), 1, 1))
    release = threading.Event()
    primary.controller.tasks.run(lambda: release.wait(60))
    return release


def test_aria2c_is_launched_before_any_ui_is_built(world: AppWorld, qtbot: Any) -> None:
    primary = world.primary()
    at_launch: list[tuple[object, object, bool]] = []
    primary.controller.engine_launched.connect(
        lambda: at_launch.append((primary.tray, primary.ui, primary.server.is_listening))
    )
    primary.start([])
    assert primary.server.is_listening
    assert primary.ui is None and primary.tray is None

    qtbot.waitUntil(lambda: primary.ui is not None, timeout=WAIT_MS)
    assert at_launch == [(None, None, True)], "the UI existed before aria2c was launched"
    assert primary.tray is not None
    qtbot.waitUntil(lambda: primary.controller.engine.client is not None, timeout=WAIT_MS)


def test_links_and_show_before_the_ui_are_acknowledged_then_honoured(
    world: AppWorld, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "UI_FALLBACK_MS", WAIT_MS)  # only the launch builds the UI
    primary = world.primary()
    release = hold_worker(primary, world.paths)
    try:
        primary.start([])
        link = "http://127.0.0.1:9/before-the-ui.bin"
        opened = in_thread(
            lambda: send_request(world.paths.server_name, "open", {"items": [link], "cwd": "/"})
        )
        qtbot.waitUntil(opened.done, timeout=WAIT_MS)
        shown = in_thread(lambda: send_request(world.paths.server_name, "show", {}))
        qtbot.waitUntil(shown.done, timeout=WAIT_MS)
        assert primary.ui is None, "the UI was built before aria2c was launched"
    finally:
        release.set()

    reply = opened.result()
    assert reply["accepted"] == 1
    pending = LinkJournal(world.paths.journal_file).pending()
    assert [entry.id for entry in pending] == reply["entries"]
    assert shown.result() == {"shown": True}

    qtbot.waitUntil(lambda: primary.ui is not None, timeout=WAIT_MS)
    assert primary.ui is not None
    qtbot.waitUntil(lambda: primary.ui.window.isVisible(), timeout=WAIT_MS)
    # aria2 took the link and saved its session: only then is the entry done.
    qtbot.waitUntil(lambda: not LinkJournal(world.paths.journal_file).pending(), timeout=WAIT_MS)


def test_a_slow_engine_start_does_not_keep_the_ui_away(
    world: AppWorld, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "UI_FALLBACK_MS", 50)
    primary = world.primary()
    release = hold_worker(primary, world.paths)  # the orphan check, and so the launch, waits
    try:
        primary.start([])
        qtbot.waitUntil(lambda: primary.ui is not None, timeout=WAIT_MS)
        assert primary.controller.engine.pid is None, "aria2c was launched after all"
    finally:
        release.set()
    qtbot.waitUntil(lambda: primary.controller.engine.client is not None, timeout=WAIT_MS)


def test_launches_being_answered_come_before_the_ui(
    world: AppWorld, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of launches is answered first: the UI's seconds on a busy machine wait."""
    monkeypatch.setattr(app_module, "UI_FALLBACK_MS", WAIT_MS)
    # The silent launch below must outlast the engine's launch on a loaded machine;
    # the 5 s for a client's line would drop it first (and then the UI may come).
    monkeypatch.setattr(single_instance, "DEFAULT_IDLE_TIMEOUT_MS", WAIT_MS)
    primary = world.primary()
    launched: list[bool] = []
    primary.controller.engine_launched.connect(lambda: launched.append(True))
    # The launch (which brings the UI) comes once the launch below is connected:
    # held back behind the worker, as in the tests above.
    release = hold_worker(primary, world.paths)
    primary.start([])
    with RawClient(world.paths.server_name) as client:  # a launch that has not sent its line yet
        try:
            qtbot.waitUntil(lambda: primary.server.active_connections == 1, timeout=WAIT_MS)
        finally:
            release.set()
        qtbot.waitUntil(lambda: bool(launched), timeout=WAIT_MS)
        qtbot.wait(100)
        assert primary.ui is None, "the UI was built while a launch waited for its answer"

        client.send(encode_request("status", {}))
        reply = in_thread(client.read_line)
        qtbot.waitUntil(reply.done, timeout=WAIT_MS)
        assert decode_reply(reply.result()).ok
    qtbot.waitUntil(lambda: primary.ui is not None, timeout=WAIT_MS)

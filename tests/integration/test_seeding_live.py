"""Seeding torrents against a real aria2c (issue 9, items 21 and 23).

A web-seeded ``.torrent`` is served from the local HTTP server, so a real
torrent downloads with no tracker and no peers, then seeds. With one
download slot (``max-concurrent-downloads=1``) the seed must not keep an
HTTP download waiting, the user is told when the torrent is done and seeds,
and a download that does wait says why.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from aria2_core.models import DownloadInfo
from desktop.app_ui import AppUi
from desktop.download_model import Column
from desktop.main_window import MainWindow
from desktop.tray import Tray
from support.app_world import WAIT_MS, AppWorld
from support.fixture_files import write_webseed_torrent
from support.http_server import FileServer, PayloadFactory, sha256_of

MAGNET = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=no-peers"


@pytest.fixture
def ui(qtbot: Any, world: AppWorld) -> AppUi:
    world.store.save(replace(world.store.load(), max_concurrent_downloads=1))
    controller = world.controller()
    window = MainWindow(controller)
    qtbot.addWidget(window)
    ui = AppUi(controller, world.preferences(controller), Tray(controller), lambda: window)
    world.on_close(ui.close)
    return ui


def row(ui: AppUi, name: str) -> DownloadInfo | None:
    return next((r for r in ui.window.model._rows if r.name == name), None)


def test_a_finished_torrent_is_announced_and_its_seed_takes_no_slot(
    qtbot: Any,
    ui: AppUi,
    world: AppWorld,
    http_server: FileServer,
    payload_factory: PayloadFactory,
    tmp_path: Path,
) -> None:
    controller = ui.window._controller
    payload = payload_factory("seeded.bin", 200 * 1024 + 5)
    torrent = write_webseed_torrent(tmp_path, payload.path, http_server.url(""))

    with qtbot.waitSignal(ui.notifier.notified, timeout=WAIT_MS) as seeding:
        controller.submit([str(torrent)], source="test")
    title, text, folder = seeding.args
    assert title == "Download complete, now seeding"
    assert "seeded.bin" in text and folder == str(world.download_dir)
    assert sha256_of(world.download_dir / "seeded.bin") == payload.sha256
    seed = row(ui, "seeded.bin")
    assert seed is not None and seed.is_seeding, "it seeds (seed-time 60 min, no peers)"
    model = ui.window.model
    assert model.data(model.index(model.row_of(seed.gid), Column.ETA)) == ""  # nothing left
    assert model.data(model.index(model.row_of(seed.gid), Column.STATUS)) == "Seeding"

    # The one slot is "taken" by the seed; an HTTP download must still start.
    later = payload_factory("after-the-seed.bin", 300 * 1024)
    controller.submit([later.url], source="test")
    target = world.download_dir / later.name
    control = target.with_name(later.name + ".aria2")
    qtbot.waitUntil(
        lambda: target.is_file() and target.stat().st_size == later.size and not control.exists(),
        timeout=WAIT_MS,
    )
    assert sha256_of(target) == later.sha256
    still = row(ui, "seeded.bin")
    assert still is not None and still.is_seeding, "the seed went on meanwhile"


def test_a_queued_download_says_what_it_waits_for(
    qtbot: Any, ui: AppUi, payload_factory: PayloadFactory
) -> None:
    """A magnet with no peers holds the only slot; the queued download says so."""
    controller = ui.window._controller
    controller.submit([MAGNET], source="test")
    qtbot.waitUntil(lambda: any(r.is_metadata for r in controller.downloads()), timeout=WAIT_MS)
    waiting = payload_factory("waits.bin", 64 * 1024)
    controller.submit([waiting.url], source="test")
    qtbot.waitUntil(lambda: ui.window.queue_label.text() != "", timeout=WAIT_MS)
    reason = ui.window.queue_label.text()
    assert "(1, in Settings)" in reason and "Magnet links still looking for peers" in reason
    queued = row(ui, "waits.bin")
    assert queued is not None and queued.status == "waiting"
    model = ui.window.model
    status_cell = model.index(model.row_of(queued.gid), 6)
    assert status_cell.data(3) == reason  # Qt.ToolTipRole

"""A link that is already a download (issue 9, item 22), against a real aria2c.

Before: dropping a finished download's link again made a second row that
"completed" at once (aria2 found the file and called it done). Now the user
is asked: "Show it" adds nothing and selects the existing row; "Download
again" really downloads, into a new file beside the old one. Links go in as
a user puts them in (a drop on the window, the add dialog), and the proof is
in aria2 (our own RPC probe) and on disk.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from aria2_core.duplicates import Duplicate, magnet_hashes, torrent_info_hash
from aria2_core.journal import LinkJournal
from desktop.app_ui import AppUi
from desktop.download_model import Role
from desktop.duplicate_links import Choice
from desktop.main_window import MainWindow
from desktop.tray import Tray
from support.app_world import WAIT_MS, AppWorld
from support.fixture_files import write_webseed_torrent
from support.http_server import FileServer, Payload, PayloadFactory, sha256_of


@pytest.fixture
def ui(qtbot: Any, world: AppWorld) -> AppUi:
    controller = world.controller()
    window = MainWindow(controller)
    qtbot.addWidget(window)
    ui = AppUi(controller, world.preferences(controller), Tray(controller), lambda: window)
    world.on_close(ui.close)
    return ui


def drop_url(window: MainWindow, url: str) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl(url)])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def whole(path: Path, payload: Payload) -> bool:
    control = path.with_name(path.name + ".aria2")
    return path.is_file() and path.stat().st_size == payload.size and not control.exists()


def test_a_finished_link_dropped_again_asks_then_shows_or_downloads_again(
    qtbot: Any, ui: AppUi, world: AppWorld, payload_factory: PayloadFactory
) -> None:
    payload = payload_factory("again.bin", 300 * 1024)
    first = world.download_dir / payload.name
    drop_url(ui.window, payload.url)
    qtbot.waitUntil(lambda: whole(first, payload), timeout=WAIT_MS)
    controller = ui._controller
    qtbot.waitUntil(
        lambda: any(r.name == payload.name and r.is_finished for r in controller.downloads()),
        timeout=WAIT_MS,
    )
    rows_before = len(controller.downloads())

    asked: list[list[Duplicate]] = []
    answers = [Choice.SHOW, Choice.AGAIN]

    def ask(duplicates: list[Duplicate]) -> Choice:
        asked.append(duplicates)
        return answers[len(asked) - 1]

    ui.drops.ask_duplicates = ask

    # "Show it": nothing is added, the existing row is selected in the window.
    drop_url(ui.window, payload.url)
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=WAIT_MS)
    assert [d.link.value for d in asked[0]] == [payload.url]
    assert asked[0][0].existing.name == payload.name
    qtbot.waitUntil(ui.window.isVisible, timeout=WAIT_MS)
    selected = ui.window.selected_records()
    assert [r.name for r in selected] == [payload.name]
    controller.refresh_downloads()
    qtbot.wait(300)
    assert len(controller.downloads()) == rows_before
    assert LinkJournal(world.paths.journal_file).pending() == []

    # "Download again": a real second download, into a new file.
    drop_url(ui.window, payload.url)
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=WAIT_MS)
    second = world.download_dir / "again.1.bin"
    qtbot.waitUntil(lambda: whole(second, payload), timeout=WAIT_MS)
    assert sha256_of(second) == payload.sha256 and sha256_of(first) == payload.sha256


def test_the_add_dialog_asks_too_and_skip_adds_nothing(
    qtbot: Any, ui: AppUi, world: AppWorld, payload_factory: PayloadFactory
) -> None:
    payload = payload_factory("dialog.bin", 64 * 1024)
    fresh = payload_factory("fresh.bin", 64 * 1024)
    dialog = ui.show_add_dialog(payload.url)
    dialog.submit()
    qtbot.waitUntil(
        lambda: any(r.name == payload.name for r in ui._controller.downloads()), timeout=WAIT_MS
    )
    asked: list[list[Duplicate]] = []
    dialog = ui.show_add_dialog(f"{payload.url}\n{fresh.url}")
    dialog.ask_duplicates = lambda d: asked.append(d) or Choice.SKIP
    dialog.submit()
    assert [d.link.value for d in asked[0]] == [payload.url]
    controller = ui._controller
    qtbot.waitUntil(
        lambda: any(r.name == fresh.name for r in controller.downloads()), timeout=WAIT_MS
    )
    names = [r.name for r in controller.downloads()]
    assert names.count(payload.name) == 1  # the new link went in, the old one not again


def test_torrents_and_magnets_match_by_info_hash(
    http_server: FileServer, payload_factory: PayloadFactory, tmp_path: Path
) -> None:
    payload = payload_factory("hashed.bin", 40 * 1024)
    torrent = write_webseed_torrent(tmp_path, payload.path, http_server.url(""))
    info_hash = torrent_info_hash(torrent)
    assert info_hash is not None and len(info_hash) == 40
    b32 = base64.b32encode(bytes.fromhex(info_hash)).decode()
    assert magnet_hashes(f"magnet:?xt=urn:btih:{b32}&dn=x") == {info_hash}
    assert magnet_hashes(f"magnet:?xt=urn:btih:{info_hash.upper()}") == {info_hash}
    assert torrent_info_hash(tmp_path / "missing.torrent") is None


def test_a_show_choice_selects_a_hidden_row(qtbot: Any, ui: AppUi) -> None:
    from aria2_core.models import DownloadInfo

    window = ui.window
    window._on_refreshed(
        [DownloadInfo("a1", "active", 10, 1, name="a.bin"), DownloadInfo("p1", "paused", 10)]
    )
    window.tabs.setCurrentIndex(1)  # Active: the paused row is filtered out
    assert window.select_download("p1")
    assert window.proxy.status_filter == "all"
    assert [i.data(Role.GID) for i in window.table.selectionModel().selectedRows()] == ["p1"]

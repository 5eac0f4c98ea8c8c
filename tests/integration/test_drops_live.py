"""Drops, the add dialog and the tray against a real aria2c and the local HTTP server.

Links go in the way a user puts them in (a ``QDropEvent`` on the window,
the add dialog's "Add"), and the proof is on disk (sha256 of the file) or
in aria2 (our own RPC client), never the app's word for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from desktop.add_dialog import AddDialog
from desktop.app_ui import AppUi
from desktop.main_window import MainWindow
from desktop.tray import Tray
from support.app_world import WAIT_MS, AppWorld
from support.fixture_files import write_metalink
from support.http_server import Payload, PayloadFactory, sha256_of

INFO_HASH = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def ui(qtbot: Any, world: AppWorld) -> AppUi:
    controller = world.controller()
    window = MainWindow(controller)
    qtbot.addWidget(window)
    ui = AppUi(controller, world.preferences(controller), Tray(controller), lambda: window)
    world.on_close(ui.close)
    return ui


def drop_on(widget: Any, mime: QMimeData) -> None:
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)
    assert event.isAccepted()


def wait_file(qtbot: Any, path: Path, payload: Payload) -> None:
    """Wait until ``path`` is whole (its size, no .aria2 control file); check its hash."""
    control = path.with_name(path.name + ".aria2")

    def whole() -> bool:
        return path.is_file() and path.stat().st_size == payload.size and not control.exists()

    qtbot.waitUntil(whole, timeout=WAIT_MS)
    assert sha256_of(path) == payload.sha256


def test_a_dropped_metalink_downloads_its_file(
    qtbot: Any, ui: AppUi, world: AppWorld, payload_factory: PayloadFactory, tmp_path: Path
) -> None:
    payload = payload_factory("from-metalink.bin", 700_000)
    metalink = write_metalink(tmp_path, payload.name, payload.url, payload.size, payload.sha256)
    finished: list[Any] = []
    ui.notifier.notified.connect(lambda *args: finished.append(args))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(metalink))])
    drop_on(ui.window, mime)
    wait_file(qtbot, world.download_dir / payload.name, payload)
    # The finished download is noticed (and a click would open its folder).
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT_MS)
    assert finished[0] == ("Download complete", payload.name, str(world.download_dir))


def test_a_dropped_magnet_is_accepted_into_aria2(qtbot: Any, ui: AppUi, world: AppWorld) -> None:
    mime = QMimeData()
    mime.setText(f"magnet:?xt=urn:btih:{INFO_HASH}&dn=demo")
    drop_on(ui.window, mime)
    probe = world.probe(ui._controller)

    def held() -> bool:
        keys = ["gid", "infoHash"]
        tasks = probe.tell_active(keys) + probe.tell_waiting(0, 100, keys)
        return any(t.get("infoHash") == INFO_HASH for t in tasks)

    qtbot.waitUntil(held, timeout=WAIT_MS)


def test_add_dialog_drop_and_command_line_each_download(
    qtbot: Any, ui: AppUi, world: AppWorld, payload_factory: PayloadFactory, tmp_path: Path
) -> None:
    by_dialog, by_drop, by_cli = (payload_factory(f"three-{n}.bin", 200_000 + n) for n in range(3))
    dialog = ui.show_add_dialog()
    assert isinstance(dialog, AddDialog)
    dialog.links_edit.setPlainText(f"{by_dialog.url}\nnot a link/\n")
    dialog.folder_edit.setText(str(tmp_path / "chosen"))
    with qtbot.waitSignal(dialog.added, timeout=WAIT_MS):  # on disk: the dialog goes on
        dialog.submit()
    assert dialog.links_edit.toPlainText() == "not a link/\n"  # the bad line stays
    html = QMimeData()
    html.setHtml(f'<p><a href="{by_drop.url}">the file</a></p>')
    html.setText("the file")
    drop_on(ui.window, html)
    ui._controller.submit([by_cli.url], source="command line")

    wait_file(qtbot, tmp_path / "chosen" / by_dialog.name, by_dialog)
    wait_file(qtbot, world.download_dir / by_drop.name, by_drop)
    wait_file(qtbot, world.download_dir / by_cli.name, by_cli)


def test_tray_tooltip_and_live_speed_limit(qtbot: Any, ui: AppUi, world: AppWorld) -> None:
    tray = ui._tray
    qtbot.waitUntil(lambda: tray.tooltip() == "↓ 0 B/s ↑ 0 B/s · 0 active", timeout=WAIT_MS)
    tray.action("speed-5000000").trigger()
    probe = world.probe(ui._controller)
    qtbot.waitUntil(
        lambda: probe.get_global_option()["max-overall-download-limit"] == "5000000",
        timeout=WAIT_MS,
    )
    # Saved once aria2 said yes; that answer reaches the GUI thread just after.
    qtbot.waitUntil(lambda: world.store.load().download_limit == 5_000_000, timeout=WAIT_MS)

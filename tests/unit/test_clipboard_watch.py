"""The clipboard watch: off by default, a tray toggle, copied download links -> a notice
whose click opens the add dialog with them. Real QClipboard (offscreen platform).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from aria2_core.clipboard_links import download_links
from desktop.app_ui import AppUi
from desktop.clipboard_watch import ClipboardWatch
from desktop.main_window import MainWindow
from desktop.settings import AppSettings
from desktop.tray import Tray
from support.app_world import AppWorld

ISO = "https://cdimage.example.org/debian-13.iso"
MAGNET = "magnet:?xt=urn:btih:5b1e2c4f0a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f"


def test_only_download_looking_links_are_offered() -> None:
    items = [
        "https://example.org/",
        "https://example.org/news/today.html",
        "https://example.org/index.php?id=3",
        "https://example.org/files/report.PDF?sig=1",
        ISO,
        MAGNET,
        "htp:/broken",
        ISO,
    ]
    assert download_links(items) == ["https://example.org/files/report.PDF?sig=1", ISO, MAGNET]


def test_the_watch_signals_new_links_only_while_on(qtbot: Any) -> None:
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("before")
    watch = ClipboardWatch(clipboard)
    seen: list[list[str]] = []
    watch.links_copied.connect(seen.append)

    clipboard.setText(f"get {ISO} now")
    assert seen == []  # off by default

    watch.set_enabled(True)
    with qtbot.waitSignal(watch.links_copied, timeout=5000):
        clipboard.setText(f"Here:\n{ISO}\n{MAGNET}\n")
    assert seen == [[ISO, MAGNET]]
    clipboard.setText("https://example.org/a/page.html")  # a page, not a download
    clipboard.setText(f"Here:\n{ISO}\n{MAGNET}\n")  # again after a change: offered again
    assert seen == [[ISO, MAGNET], [ISO, MAGNET]]
    clipboard.setText(f"{ISO}\n{MAGNET}")  # the same links once more: not twice in a row
    assert len(seen) == 2

    watch.set_enabled(False)
    clipboard.setText(MAGNET)
    assert len(seen) == 2


@pytest.fixture
def ui(qtbot: Any, world: AppWorld) -> AppUi:
    controller = world.controller(start=False)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    ui = AppUi(controller, world.preferences(controller), Tray(controller), lambda: window)
    world.on_close(ui.close)
    world.on_close(lambda: ui.set_clipboard_watch(False))
    return ui


def test_tray_toggle_notice_and_click_open_the_add_dialog(
    ui: AppUi, world: AppWorld, caplog: pytest.LogCaptureFixture
) -> None:
    assert AppSettings().clipboard_watch is False
    action = ui._tray.action("watchclip")
    assert action.isCheckable() and not action.isChecked()

    action.trigger()  # the tray menu's "Watch clipboard"

    assert ui.clipboard_watch.enabled and action.isChecked()
    assert world.store.load().clipboard_watch is True  # remembered
    caplog.set_level(logging.INFO, logger="aria_tray.tray")
    QGuiApplication.clipboard().setText(f"{ISO}\nsee also {MAGNET}")
    assert "2 download links copied" in caplog.text

    ui._tray._message_clicked()  # what QSystemTrayIcon.messageClicked triggers

    dialog = ui._add_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.links_edit.toPlainText() == f"{ISO}\n{MAGNET}"

    action.trigger()
    assert not ui.clipboard_watch.enabled
    assert world.store.load().clipboard_watch is False


def test_the_watch_comes_back_on_at_start_when_it_was_on(ui: AppUi, world: AppWorld) -> None:
    ui._preferences.remember(clipboard_watch=True)
    ui.start()
    assert ui.clipboard_watch.enabled and ui._tray.action("watchclip").isChecked()

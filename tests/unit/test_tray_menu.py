"""The tray: its menu, the speed limit presets, state icons, and notifications.

The controller's engine is not started here; the tooltip and the live
speed limit against a real aria2c are in tests/integration/test_drops_live.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aria2_core.formatting import format_speed
from aria2_core.models import DownloadInfo, FileInfo, GlobalStat
from desktop.app_ui import AppUi
from desktop.main_window import MainWindow
from desktop.notifications import Notifier
from desktop.tray import MENU, SPEED_PRESETS, Tray, menu_labels
from desktop.tray_icons import TrayState, state_icon, tray_state
from support.app_world import AppWorld


@pytest.fixture
def ui(qtbot: Any, world: AppWorld) -> AppUi:
    controller = world.controller(start=False)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    tray = Tray(controller)
    ui = AppUi(controller, world.preferences(controller), tray, lambda: window)
    world.on_close(ui.close)
    return ui


def test_menu_entries_in_order(ui: AppUi) -> None:
    texts = [a.text() for a in ui._tray.menu.actions() if not a.isSeparator()]
    assert texts == [
        "Show/Hide",
        "Add download…",
        "Add from clipboard",
        "Watch clipboard",
        "Pause all",
        "Resume all",
        "Speed limit",
        "Drop zone",
        "Open download folder",
        "Settings…",
        "Quit",
    ]
    assert texts == menu_labels()  # what tests/e2e/test_tray_xvfb.py reads
    separators = [a.isSeparator() for a in ui._tray.menu.actions()]
    assert separators == [entry is None for entry in MENU]
    names = [a.objectName() for a in ui._tray.menu.actions() if not a.isSeparator()]
    assert names[0] == "tray-window" and names[-1] == "tray-quit"
    speed = ui._tray.action("speed-0").parent()
    assert [a.text() for a in speed.actions() if not a.isSeparator()] == [
        "Unlimited",
        "500.0 kB/s",
        "1.0 MB/s",
        "2.0 MB/s",
        "5.0 MB/s",
        "10.0 MB/s",
        "Custom…",
    ]


def test_speed_limit_presets_check_apply_and_persist(
    qtbot: Any, ui: AppUi, world: AppWorld
) -> None:
    """A choice is applied, then saved once the controller took it (asynchronously)."""
    tray = ui._tray
    controller = ui._controller
    assert tray.action("speed-0").isChecked()
    tray.action(f"speed-{SPEED_PRESETS[2]}").trigger()
    qtbot.waitUntil(lambda: world.store.load().download_limit == SPEED_PRESETS[2], timeout=5000)
    assert controller.engine_settings().max_overall_download_limit == SPEED_PRESETS[2]
    assert tray.action(f"speed-{SPEED_PRESETS[2]}").isChecked()

    tray.ask_custom_limit = lambda current_kb: 1234
    tray.action("speed-custom").trigger()
    qtbot.waitUntil(lambda: world.store.load().download_limit == 1_234_000, timeout=5000)
    assert controller.engine_settings().max_overall_download_limit == 1_234_000
    assert tray.action("speed-custom").isChecked()
    assert tray.action("speed-custom").text() == "Custom (1.2 MB/s)…"

    tray.ask_custom_limit = lambda current_kb: None  # cancelled: nothing changes
    tray.action("speed-0").trigger()
    qtbot.waitUntil(lambda: world.store.load().download_limit == 0, timeout=5000)
    tray.action("speed-custom").trigger()
    assert controller.engine_settings().max_overall_download_limit == 0
    assert tray.action("speed-0").isChecked()


def test_menu_actions_reach_the_app(qtbot: Any, ui: AppUi) -> None:
    tray = ui._tray
    tray.action("add").trigger()
    assert ui._add_dialog is not None and ui._add_dialog.isVisible()
    tray.action("settings").trigger()
    assert ui._settings_dialog is not None and ui._settings_dialog.isVisible()
    tray.action("window").trigger()
    assert ui.window.isVisible()
    with qtbot.waitSignal(tray.quit_requested, timeout=1000):
        tray.action("quit").trigger()


def test_state_icons() -> None:
    busy, waiting, idle = GlobalStat(num_active=2), GlobalStat(num_waiting=3), GlobalStat()
    assert tray_state("ready", busy) == TrayState.DOWNLOADING
    assert tray_state("ready", waiting) == TrayState.PAUSED
    assert tray_state("ready", idle) == TrayState.IDLE
    assert tray_state("failed", busy) == TrayState.ERROR
    assert tray_state("starting", idle) == TrayState.IDLE
    for state in TrayState:
        icon = state_icon(state)
        assert not icon.isNull() and not icon.pixmap(22, 22).isNull()
    assert state_icon(TrayState.ERROR).cacheKey() != state_icon(TrayState.IDLE).cacheKey()


def test_tooltip_format() -> None:
    assert format_speed(1_234_567) == "1.2 MB/s"
    assert format_speed(0) == "0 B/s"
    assert format_speed(999_960) == "1.0 MB/s"


def _finished(folder: Path) -> list[DownloadInfo]:
    done = DownloadInfo(
        "g1",
        "complete",
        10,
        10,
        name="done.iso",
        dir=str(folder),
        files=[FileInfo(1, str(folder / "done.iso"), 10, 10, True)],
    )
    failed = DownloadInfo("g2", "error", name="bad.zip", error_code=3, error_message="Not found")
    return [done, failed]


def test_notifications_on_complete_and_error(ui: AppUi, tmp_path: Path) -> None:
    notifier: Notifier = ui.notifier
    shown: list[tuple[str, str, str]] = []
    notifier.notified.connect(lambda *args: shown.append(args))
    opened: list[Path] = []
    notifier.open_folder = opened.append
    done, failed = _finished(tmp_path)

    ui._controller.downloads_finished.emit([done])
    assert shown[-1] == ("Download complete", "done.iso", str(tmp_path))
    ui._tray._message_clicked()  # what QSystemTrayIcon.messageClicked triggers
    assert opened == [tmp_path]

    ui._controller.downloads_finished.emit([failed])
    assert shown[-1] == ("Download failed", "bad.zip: The file was not found on the server.", "")
    ui._tray._message_clicked()
    assert opened == [tmp_path]  # an error message opens nothing

    ui._controller.downloads_finished.emit([done, failed])
    assert shown[-1][0] == "1 downloaded, 1 failed"


def test_notifications_switch_off_in_settings(qtbot: Any, ui: AppUi, tmp_path: Path) -> None:
    shown: list[Any] = []
    ui.notifier.notified.connect(lambda *args: shown.append(args))
    prefs = ui._preferences
    settings = prefs.settings
    settings.notifications = False
    done: list[list[str]] = []
    prefs.apply(settings, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert done == [[]]
    ui._controller.downloads_finished.emit(_finished(tmp_path))
    assert shown == []


def test_the_tooltip_words_the_engine_state(ui: AppUi) -> None:
    """A readable state ("not running"), never EngineState's raw word ("stopped")."""
    assert ui._tray.tooltip() == "Aria Tray: the download engine is not running"

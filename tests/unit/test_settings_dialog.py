"""The Settings dialog without a running engine: fields, local checks, the aria2c path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from desktop.settings_dialog import SettingsDialog
from support.app_world import AppWorld


@pytest.fixture
def dialog(qtbot: Any, world: AppWorld) -> SettingsDialog:
    prefs = world.preferences(world.controller(start=False))
    d = SettingsDialog(prefs)
    qtbot.addWidget(d)
    d.show()
    return d


def test_fields_show_and_return_the_settings(world: AppWorld, qtbot: Any) -> None:
    settings = replace(
        world.store.load(),
        download_limit=1_500_000,
        seed_time=30.0,
        user_agent="UA",
        proxy="http://p:1",
        language="zh_CN",
        start_minimized=False,
    )
    world.store.save(settings)
    d = SettingsDialog(world.preferences(world.controller(start=False)))
    qtbot.addWidget(d)
    assert d.down_limit.value() == 1500 and d.down_limit.text() == "1500 kB/s"
    assert d.up_limit.text() == "Unlimited"
    assert d.seed_time_box.isChecked() and d.seed_time.value() == 30
    assert d.language.currentText() == "简体中文"
    assert d.values() == replace(settings, start_at_login=False)


def test_local_problems_keep_the_dialog_open(dialog: SettingsDialog) -> None:
    dialog.folder_edit.setText("relative/folder")
    dialog.proxy_edit.setText("http://a b")
    dialog.apply()
    assert dialog.isVisible() and dialog.status.isVisible()
    assert dialog.status.text().splitlines() == [
        "The download folder must be a full path.",
        "The proxy address cannot contain spaces.",
    ]


def test_a_missing_aria2c_is_reported(qtbot: Any, dialog: SettingsDialog, tmp_path: Path) -> None:
    dialog.binary_edit.setText(str(tmp_path / "no-such-aria2c"))
    dialog.apply()
    qtbot.waitUntil(lambda: not dialog._applying, timeout=10_000)
    assert dialog.isVisible()
    assert dialog.extra_problems.text().startswith("aria2c program: ")
    assert "does not exist" in dialog.extra_problems.text()
    assert dialog.tabs.currentIndex() == 3


def test_environment_overrides_show_the_value_in_use_and_say_so(
    qtbot: Any, world: AppWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ARIA_TRAY_DOWNLOAD_DIR wins over the file: show that folder, not the saved one."""
    world.store.save(replace(world.store.load(), download_dir="/root"))
    env_dir = tmp_path / "env"
    monkeypatch.setenv("ARIA_TRAY_DOWNLOAD_DIR", str(env_dir))
    controller = world.controller(start=False)
    d = SettingsDialog(world.preferences(controller))
    qtbot.addWidget(d)
    assert controller.download_dir() == env_dir
    assert d.folder_edit.text() == str(env_dir)
    assert not d.folder_edit.isEnabled() and not d.folder.browse.isEnabled()
    assert not d.folder.note.isHidden()
    assert d.folder.note.text() == (
        "Set by ARIA_TRAY_DOWNLOAD_DIR for this run (saved setting: /root)."
    )
    assert d.binary_edit.isEnabled() and d.binary.note.isHidden()
    assert d.values().download_dir == "/root"  # OK never saves the environment's folder


def test_an_environment_aria2c_is_shown_as_the_one_in_use(
    qtbot: Any, world: AppWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ARIA_TRAY_ARIA2C", str(tmp_path / "aria2c"))
    d = SettingsDialog(world.preferences(world.controller(start=False)))
    qtbot.addWidget(d)
    assert d.binary_edit.text() == str(tmp_path / "aria2c") and not d.binary_edit.isEnabled()
    assert d.binary.note.text() == "Set by ARIA_TRAY_ARIA2C for this run (saved setting: none)."
    assert d.folder_edit.isEnabled() and d.folder.note.isHidden()
    assert d.values().aria2c_path == ""


def test_a_new_language_offers_to_restart_the_app(qtbot: Any, world: AppWorld) -> None:
    """Issue 9, item 26: widgets are translated when built, so a new language needs a restart."""
    from desktop.app_ui import AppUi
    from desktop.main_window import MainWindow
    from desktop.tray import Tray

    controller = world.controller(start=False)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    ui = AppUi(controller, world.preferences(controller), Tray(controller), lambda: window)
    world.on_close(ui.close)
    asked: list[bool] = []

    def confirm() -> bool:
        asked.append(True)
        return True

    dialog = ui.show_settings()
    dialog.confirm_app_restart = confirm
    dialog.language.setCurrentIndex(dialog.language.findData("zh_CN"))
    with qtbot.waitSignal(ui.restart_requested, timeout=10_000):
        dialog.apply()
    assert asked == [True] and world.store.load().language == "zh_CN"

    again = ui.show_settings()  # nothing about the language changes: nobody asks
    again.confirm_app_restart = confirm
    again.apply()
    qtbot.waitUntil(lambda: not again.isVisible(), timeout=10_000)
    assert asked == [True]

"""Preferences: start at login (desktop.autostart), start minimized, the drop zone at start."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from aria2_core.models import DownloadInfo
from desktop import autostart
from desktop.app_ui import AppUi
from desktop.main_window import MainWindow
from desktop.tray import Tray
from support.app_world import AppWorld


def apply(qtbot: Any, prefs: Any, new: Any) -> list[str]:
    done: list[list[str]] = []
    prefs.apply(new, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    return done[0]


def test_start_at_login_switches_the_autostart_entry(
    qtbot: Any, world: AppWorld, tmp_path: Path
) -> None:
    """The XDG autostart entry on Linux, the HKCU Run value on Windows."""
    if sys.platform == "win32" and autostart.is_enabled():
        pytest.skip("Aria Tray already starts at login for this user; not touching it")
    prefs = world.preferences(world.controller(start=False))
    assert not prefs.settings.start_at_login and not autostart.is_enabled()
    assert apply(qtbot, prefs, replace(prefs.settings, start_at_login=True)) == []
    entry = tmp_path / "xdg-config" / "autostart" / "aria-tray.desktop"
    assert autostart.is_enabled()
    assert sys.platform == "win32" or entry.is_file()
    assert world.store.load().start_at_login
    # A new run reads the truth from the OS entry, not only from the file.
    assert world.preferences(world.controller(start=False)).settings.start_at_login
    assert apply(qtbot, prefs, replace(prefs.settings, start_at_login=False)) == []
    assert not entry.exists() and not autostart.is_enabled()


def test_start_shows_what_the_settings_ask_for(qtbot: Any, world: AppWorld) -> None:
    settings = world.store.load()
    world.store.save(replace(settings, start_minimized=False, drop_zone_visible=True))
    controller = world.controller(start=False)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    ui = AppUi(controller, world.preferences(controller), Tray(controller), lambda: window)
    world.on_close(ui.close)
    assert not window.isVisible()
    ui.start()
    assert window.isVisible()
    assert ui.drop_zone is not None and ui.drop_zone.isVisible()
    assert ui._tray.action("dropzone").isChecked()


def _start_ui(qtbot: Any, world: AppWorld, tray_available: bool = True) -> AppUi:
    controller = world.controller(start=False)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    ui = AppUi(controller, world.preferences(controller), Tray(controller), lambda: window)
    world.on_close(ui.close)
    ui.start(tray_available)
    return ui


def test_the_first_run_shows_the_window_then_start_minimized_is_the_default(
    qtbot: Any, world: AppWorld
) -> None:
    first = _start_ui(qtbot, world)
    assert first.window.isVisible(), "a new user must see something"
    assert "system tray" in first.window.statusBar().currentMessage()
    assert world.store.load().first_run_done
    first.window._on_refreshed([DownloadInfo("g1", "active", 10, 1, name="a.bin")])
    assert first.window.statusBar().currentMessage() == "", "said once the user found the way"
    first.close()

    second = _start_ui(qtbot, world)
    assert not second.window.isVisible() and second.drop_zone is None


def test_without_a_tray_the_window_shows_and_closing_it_quits(qtbot: Any, world: AppWorld) -> None:
    world.store.save(replace(world.store.load(), first_run_done=True))
    ui = _start_ui(qtbot, world, tray_available=False)
    assert ui.window.isVisible()
    assert "quits" in ui.window.statusBar().currentMessage()
    ui.window._on_refreshed([DownloadInfo("g1", "active", 10, 1, name="a.bin")])
    assert "quits" in ui.window.statusBar().currentMessage(), "true for as long as it runs"
    # Offscreen Qt has no system tray, like a desktop without one.
    with qtbot.waitSignal(ui.quit_requested, timeout=2000):
        ui.window.close()

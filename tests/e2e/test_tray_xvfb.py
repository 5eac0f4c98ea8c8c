"""The real tray icon on a real X server: Xvfb + trayer, clicked with xdotool.

Offscreen Qt has no system tray, so this is the only place where the icon,
its embedding and its context menu are exercised the way a user meets them.
The app is launched as ``main.py`` with ``QT_QPA_PLATFORM=xcb``; the test
finds its icon inside trayer, toggles the window with left clicks, opens the
menu with a right click, photographs it, and quits both through ``--quit``
and through the menu's own Quit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.tray import menu_labels
from support.app_process import AppHome, wait_until
from support.xserver import WindowInfo, XServer, tray_server

pytestmark = [pytest.mark.e2e, pytest.mark.tray]

ARTIFACTS_ENV = "ARIA_TRAY_ARTIFACTS"  # CI: keep the menu screenshot there
WM_CLASS = "aria-tray"  # QApplication.setApplicationName("aria-tray")


@pytest.fixture
def xserver() -> Iterator[XServer]:
    with tray_server() as server:
        yield server


class TrayIcon:
    """The app's icon inside trayer, clicked the way a user would.

    Successive clicks land on alternating spots of the icon: Qt folds two
    presses of one button on one spot within the double-click interval into
    a double click, which Qt's XEmbed tray icon ignores for the right button,
    so a quick test would lose its second right click.
    """

    def __init__(self, xserver: XServer, window: int) -> None:
        self.xserver = xserver
        self.window = window
        self._clicks = 0

    def info(self) -> WindowInfo:
        info = self.xserver.window_info(self.window)
        assert info is not None, "the tray icon is gone"
        return info

    def click(self, button: int) -> None:
        info = self.info()
        quarter = (info.width // 4, info.height // 4)
        spot = (
            quarter
            if self._clicks % 2 == 0
            else (info.width - quarter[0], info.height - quarter[1])
        )
        self._clicks += 1
        self.xserver.click(self.window, button, *spot)

    def open_menu(self) -> WindowInfo:
        self.click(button=3)
        menus = wait_until(lambda: self.xserver.popup_menus(WM_CLASS), timeout=10)
        assert len(menus) == 1, f"expected one context menu, found {menus}"
        return menus[0]

    def main_windows(self) -> list[int]:
        """Visible top-level app windows: neither this icon nor a popup menu."""
        popups = {menu.id for menu in self.xserver.popup_menus(WM_CLASS)}
        return [
            w
            for w in self.xserver.search("--class", WM_CLASS)
            if w != self.window and w not in popups
        ]


def start_in_tray(app_home: AppHome, xserver: XServer) -> TrayIcon:
    """Launch the primary on ``xserver``; return its tray icon once embedded.

    A returning user's start: the first run's window is tested in
    test_first_run_xvfb.py.
    """
    app_home.mark_first_run_done()
    app_home.extra_env.update(xserver.env())
    app_home.launch()
    app_home.wait_ready()
    icons = wait_until(lambda: xserver.tray_icons(WM_CLASS), timeout=20)
    assert len(icons) == 1, f"expected one Aria Tray icon in trayer, found {icons}"
    return TrayIcon(xserver, icons[0])


def test_tray_icon_shows_its_menu_and_quit_leaves_nothing(
    app_home: AppHome, xserver: XServer, tmp_path: Path
) -> None:
    icon = start_in_tray(app_home, xserver)

    log = app_home.log_text()
    assert "primary started" in log
    assert "no system tray available" not in log
    info = icon.info()
    assert info.viewable and info.width > 0 and info.height > 0

    # A left click shows the main window (not the menu); the menu's first
    # entry, Show/Hide, hides it again.
    assert not xserver.popup_menus(WM_CLASS)
    assert not icon.main_windows(), "the window starts hidden"
    icon.click(button=1)
    wait_until(icon.main_windows, timeout=10)
    assert not xserver.popup_menus(WM_CLASS)
    icon.open_menu()
    xserver.key("Down", "Return")  # Down from "no item" selects the first: Show/Hide
    wait_until(lambda: not icon.main_windows(), timeout=10)
    wait_until(lambda: not xserver.popup_menus(WM_CLASS), timeout=10)
    assert app_home.wait_ready()["engine_state"] == "ready"

    menu = icon.open_menu()
    assert menu.override_redirect, "a QMenu popup is override-redirect"
    assert menu.width > info.width and menu.height > info.height
    shots = Path(os.environ.get(ARTIFACTS_ENV) or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    shot = xserver.screenshot(shots / "tray-menu.png", crop=menu, margin=40)
    assert shot.stat().st_size > 0
    print(f"tray menu screenshot ({', '.join(menu_labels())} expected): {shot}")

    xserver.key("Escape")
    wait_until(lambda: not xserver.popup_menus(WM_CLASS), timeout=10)
    assert len(app_home.aria2c_processes()) == 1

    result = app_home.run("--quit", timeout=30)
    assert result.returncode == 0, result.stderr
    assert app_home.aria2c_processes() == []
    assert app_home.app_processes() == []
    wait_until(lambda: not xserver.tray_icons(WM_CLASS), timeout=10)


def test_quit_from_the_tray_menu_stops_aria2c(app_home: AppHome, xserver: XServer) -> None:
    icon = start_in_tray(app_home, xserver)
    assert len(app_home.aria2c_processes()) == 1

    icon.open_menu()
    # Up from "no item" wraps to the last entry, Quit; keys avoid pixel maths.
    xserver.key("Up", "Return")

    wait_until(lambda: not app_home.app_processes(), timeout=30)
    assert app_home.aria2c_processes() == []
    assert "quitting (tray)" in app_home.log_text()
    (primary,) = app_home.launched
    assert primary.wait(10) == 0


@pytest.fixture
def bare_xserver() -> Iterator[XServer]:
    """An X server whose tray (trayer) has not started yet."""
    with tray_server(tray=False) as server:
        yield server


def test_icon_appears_when_the_tray_starts_after_the_app(
    app_home: AppHome, bare_xserver: XServer
) -> None:
    """X11 autostart order is not ours to choose: a panel may come up after us."""
    app_home.extra_env.update(bare_xserver.env())
    app_home.launch()
    app_home.wait_ready()
    assert not bare_xserver.tray_owner()
    assert "no system tray available" in app_home.log_text()

    bare_xserver.start_tray()

    icons = wait_until(lambda: bare_xserver.tray_icons(WM_CLASS), timeout=20)
    assert len(icons) == 1
    menu = TrayIcon(bare_xserver, icons[0]).open_menu()
    assert menu.viewable
    bare_xserver.key("Escape")
    assert app_home.run("--quit", timeout=30).returncode == 0
    assert app_home.aria2c_processes() == []

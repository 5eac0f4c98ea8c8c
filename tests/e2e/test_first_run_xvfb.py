"""A first run people can see, on a real X server (issue 9, items 18, 19, 25).

``main.py`` is launched as a user would, with ``QT_QPA_PLATFORM=xcb`` on a
private Xvfb: once with trayer (a desktop with a system tray), once without
(stock GNOME, some Wayland sessions). Windows are found with xdotool and
measured with xwininfo; the keyboard is xdotool's, and "close" is the
``WM_DELETE_WINDOW`` message a window manager's close button sends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.app_process import AppHome, wait_until
from support.xserver import XServer, tray_server

pytestmark = [pytest.mark.e2e, pytest.mark.tray]

WM_CLASS = "aria-tray"
SCREEN_WIDTH = 1280  # XServer's default screen


@pytest.fixture
def xserver() -> Iterator[XServer]:
    with tray_server() as server:
        yield server


@pytest.fixture
def bare_xserver() -> Iterator[XServer]:
    """An X server with no system tray at all."""
    with tray_server(tray=False) as server:
        yield server


def named_windows(xserver: XServer, title: str) -> list[int]:
    """Visible top-level app windows with this title (the tray icon, embedded, has one too)."""
    found = []
    for window in xserver.search("--class", WM_CLASS):
        name = xserver.run("xdotool", "getwindowname", str(window), check=False).strip()
        if name not in (title, f"{title} — Aria Tray"):  # Qt adds the app's display name
            continue
        info = xserver.window_info(window)
        if info is not None and not info.override_redirect:
            found.append(window)
    return found


def main_windows(xserver: XServer) -> list[int]:
    return named_windows(xserver, "Aria Tray")


def test_the_first_run_shows_the_window_and_the_keyboard_reaches_everything(
    app_home: AppHome, xserver: XServer
) -> None:
    app_home.extra_env.update(xserver.env())
    app_home.launch()
    app_home.wait_ready()
    wait_until(lambda: xserver.tray_icons(WM_CLASS), timeout=20)
    (window,) = wait_until(lambda: main_windows(xserver), timeout=20)
    assert "first run True" in app_home.log_text()

    # Ctrl+N opens the add dialog; Escape closes it again.
    xserver.run("xdotool", "windowfocus", "--sync", str(window))
    xserver.key("ctrl+n")
    (dialog,) = wait_until(lambda: named_windows(xserver, "Add downloads"), timeout=10)
    xserver.run("xdotool", "windowfocus", "--sync", str(dialog))
    xserver.key("Escape")
    wait_until(lambda: not named_windows(xserver, "Add downloads"), timeout=10)

    # With a tray, closing the window only hides it.
    xserver.close(window)
    wait_until(lambda: not main_windows(xserver), timeout=10)
    assert len(app_home.app_processes()) == 1

    # The second start is a normal one: in the tray, window hidden.
    assert app_home.run("--quit", timeout=30).returncode == 0
    app_home.launch()
    app_home.wait_ready()
    wait_until(lambda: xserver.tray_icons(WM_CLASS), timeout=20)
    assert not main_windows(xserver)
    assert "first run False" not in app_home.log_text()  # nothing shown, nothing logged

    # Ctrl+Q in the window quits the app and its aria2c.
    assert app_home.run("--show", timeout=30).returncode == 0
    (window,) = wait_until(lambda: main_windows(xserver), timeout=10)
    xserver.run("xdotool", "windowfocus", "--sync", str(window))
    xserver.key("ctrl+q")
    wait_until(lambda: not app_home.app_processes(), timeout=30)
    assert app_home.aria2c_processes() == []
    assert "quitting (window)" in app_home.log_text()


def test_without_a_tray_the_window_shows_fits_the_screen_and_closing_it_quits(
    app_home: AppHome, bare_xserver: XServer
) -> None:
    """No tray icon could bring a hidden window back, so the window is the app.

    At ``QT_SCALE_FACTOR=1.5`` the window's 980 logical pixels would be
    1470 on a 1280-pixel screen: it must come up inside the screen.
    """
    app_home.extra_env.update(bare_xserver.env())
    app_home.extra_env["QT_SCALE_FACTOR"] = "1.5"
    (primary,) = [app_home.launch()]
    app_home.wait_ready()
    (window,) = wait_until(lambda: main_windows(bare_xserver), timeout=20)
    info = bare_xserver.window_info(window)
    assert info is not None and info.viewable
    assert info.x >= 0 and info.x + info.width <= SCREEN_WIDTH, info
    assert "no system tray available" in app_home.log_text()

    bare_xserver.close(window)

    assert primary.wait(30) == 0
    assert app_home.aria2c_processes() == []
    assert "quitting (window)" in app_home.log_text()

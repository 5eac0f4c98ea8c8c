"""Everything reachable from the window: menus, shortcuts, hints, drops (issue 9, 19/20/24).

Real widgets over a controller whose engine is not started: a paste or a
drop journals one entry, which is the controller's promise. The window on a
real X server, its first run and the keyboard there are in
tests/e2e/test_first_run_xvfb.py.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSize, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtTest import QTest

from aria2_core.journal import LinkJournal
from aria2_core.models import DownloadInfo
from desktop.app_ui import AppUi
from desktop.download_model import Role
from desktop.main_window import MainWindow
from desktop.tray import Tray
from support.app_world import AppWorld

URL = "https://example.org/files/archive.tar.xz"


@pytest.fixture
def ui(qtbot: Any, world: AppWorld) -> AppUi:
    controller = world.controller(start=False)
    prefs = world.preferences(controller)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    ui = AppUi(controller, prefs, Tray(controller), lambda: window)
    world.on_close(ui.close)
    return ui


def journaled(world: AppWorld) -> list[list[str]]:
    return [list(entry.items) for entry in LinkJournal(world.paths.journal_file).pending()]


def url_mime(url: str = URL) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl(url)])
    return mime


MOVE_OR_COPY = Qt.DropAction.MoveAction | Qt.DropAction.CopyAction


def test_drops_are_taken_as_copy_never_as_move(qtbot: Any, ui: AppUi, world: AppWorld) -> None:
    """A file manager proposing Move would delete the user's .torrent after the drop."""
    ui.set_drop_zone_visible(True)
    assert ui.drop_zone is not None
    for widget in (ui.window, ui.drop_zone):
        mime = url_mime()
        enter = QDragEnterEvent(
            QPoint(5, 5),
            MOVE_OR_COPY,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        enter.setDropAction(Qt.DropAction.MoveAction)  # what the source proposes
        widget.dragEnterEvent(enter)
        assert enter.isAccepted() and enter.dropAction() == Qt.DropAction.CopyAction
        move = QDragMoveEvent(
            QPoint(6, 6),
            MOVE_OR_COPY,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        move.setDropAction(Qt.DropAction.MoveAction)
        widget.dragMoveEvent(move)
        assert move.isAccepted() and move.dropAction() == Qt.DropAction.CopyAction
        drop = QDropEvent(
            QPointF(6, 6),
            MOVE_OR_COPY,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        drop.setDropAction(Qt.DropAction.MoveAction)
        with qtbot.waitSignal(ui.drops.handled):  # journaled on the journal worker
            widget.dropEvent(drop)
        assert drop.isAccepted() and drop.dropAction() == Qt.DropAction.CopyAction
    assert journaled(world) == [[URL], [URL]]


def test_a_link_only_drag_is_taken_as_a_link(ui: AppUi) -> None:
    mime = url_mime()  # the event does not own it: keep it alive
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.LinkAction | Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    ui.window.dragEnterEvent(enter)
    assert enter.isAccepted() and enter.dropAction() == Qt.DropAction.LinkAction


def test_the_window_highlights_while_a_drag_is_over_it(qtbot: Any, ui: AppUi) -> None:
    window = ui.window
    window.show_window()
    qtbot.waitExposed(window)
    assert not window.drop_highlight.isVisible()
    mime = url_mime()
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(enter)
    assert window.drop_highlight.isVisible()
    assert window.drop_highlight.geometry() == window.centralWidget().rect()
    window.dragLeaveEvent(None)  # type: ignore[arg-type]
    assert not window.drop_highlight.isVisible()


def test_menu_bar_reaches_settings_and_quit(qtbot: Any, ui: AppUi) -> None:
    window = ui.window
    titles = {
        menu_action.text(): [a.text() for a in menu_action.menu().actions() if a.text()]
        for menu_action in window.menuBar().actions()
    }
    file_menu = titles["&File"]
    for label in ("Add download…", "Paste links", "Settings…", "Quit Aria Tray"):
        assert label in file_menu
    with qtbot.waitSignal(ui.quit_requested, timeout=1000):
        window.window_actions.actions["quit"].trigger()
    window.window_actions.actions["settings"].trigger()
    qtbot.waitUntil(lambda: ui._settings_dialog is not None and ui._settings_dialog.isVisible())


def test_the_usual_shortcuts(qtbot: Any, ui: AppUi, world: AppWorld) -> None:
    window = ui.window
    actions = window.window_actions.actions
    expected = {
        "add": QKeySequence("Ctrl+N"),
        "paste": QKeySequence("Ctrl+V"),
        "find": QKeySequence("Ctrl+F"),
        "remove": QKeySequence(Qt.Key.Key_Delete),
        "quit": QKeySequence("Ctrl+Q"),
    }
    for name, keys in expected.items():
        assert actions[name].shortcut() == keys, name

    window.show_window()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is window.windowHandle())
    window.table.setFocus()

    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.search.hasFocus)

    window.table.setFocus()
    QGuiApplication.clipboard().setText(f"{URL}\nnot a link at all")
    QTest.keyClick(window.table, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: journaled(world) == [[URL]])

    with qtbot.waitSignal(window.add_requested, timeout=1000):
        QTest.keyClick(window.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    ui._add_dialog.hide()  # type: ignore[union-attr]
    window.activateWindow()
    with qtbot.waitSignal(window.quit_requested, timeout=1000):
        QTest.keyClick(window.table, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)


def test_the_empty_list_says_what_to_do(qtbot: Any, ui: AppUi) -> None:
    window = ui.window
    window.show_window()
    qtbot.waitExposed(window)
    window._on_refreshed([])
    assert window.empty_hint.isVisible()
    assert window.empty_hint.label.text() == "Drop links here or press Ctrl+V"
    window._on_refreshed([DownloadInfo("g1", "active", 10, 1, name="a.bin")])
    assert not window.empty_hint.isVisible()


def test_a_drop_on_the_zone_is_confirmed_while_the_window_is_hidden(
    qtbot: Any, ui: AppUi, world: AppWorld, caplog: pytest.LogCaptureFixture
) -> None:
    ui.set_drop_zone_visible(True)
    zone = ui.drop_zone
    assert zone is not None and not ui.window.isVisible()
    mime = url_mime()
    drop = QDropEvent(
        QPointF(6, 6),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with (
        caplog.at_level(logging.INFO, logger="aria_tray.tray"),
        qtbot.waitSignal(ui.drops.handled),
    ):
        zone.dropEvent(drop)
        assert drop.isAccepted()
        # Journaled on the worker, told on the GUI thread: not shown as added before.
        assert not zone.confirming
        assert "Links added" not in caplog.text
    assert zone.confirming, "the zone itself says Added"
    assert "message: Links added: Links added to Aria Tray: 1" in caplog.text
    assert journaled(world) == [[URL]]


def test_rows_stay_in_the_order_added_while_their_states_change(ui: AppUi) -> None:
    window = ui.window

    def order() -> list[str]:
        proxy = window.proxy
        return [proxy.index(r, 0).data(Role.GID) for r in range(proxy.rowCount())]

    window._on_refreshed(
        [
            DownloadInfo("a", "active", 100, 10, 5, name="a.bin"),
            DownloadInfo("b", "waiting", 100, name="b.bin"),
            DownloadInfo("c", "paused", 100, name="c.bin"),
        ]
    )
    assert order() == ["a", "b", "c"]
    # a finishes, b starts, c resumes and queues, d arrives: nobody jumps.
    window._on_refreshed(
        [
            DownloadInfo("b", "active", 100, 1, 5, name="b.bin"),
            DownloadInfo("c", "waiting", 100, name="c.bin"),
            DownloadInfo("a", "complete", 100, 100, name="a.bin"),
            DownloadInfo("d", "waiting", 100, name="d.bin"),
        ]
    )
    assert order() == ["a", "b", "c", "d"]
    assert window.table.horizontalHeader().sortIndicatorSection() == -1


def test_the_window_comes_back_where_it_was_and_inside_the_screen(
    qtbot: Any, world: AppWorld
) -> None:
    """Issue 9, item 25: a remembered place is restored, and fitted to today's screen."""

    def new_ui() -> AppUi:
        controller = world.controller(start=False)
        window = MainWindow(controller)
        qtbot.addWidget(window)
        ui = AppUi(controller, world.preferences(controller), Tray(controller), lambda: window)
        world.on_close(ui.close)
        return ui

    first = new_ui()
    first.show_window()
    qtbot.waitExposed(first.window)
    first.window.setGeometry(60, 70, 520, 380)
    first.window.hide()
    assert world.store.load().window_geometry

    second = new_ui()
    second.show_window()
    qtbot.waitExposed(second.window)
    assert second.window.geometry().size() == QSize(520, 380)
    assert second.window.geometry().topLeft() == QPoint(60, 70)

    area = second.window.screen().availableGeometry()
    second.window.setGeometry(0, 0, area.width() * 3 // 2, area.height() * 2)  # a bigger screen
    second.window.hide()
    third = new_ui()
    third.show_window()
    qtbot.waitExposed(third.window)
    assert area.contains(third.window.geometry()), (third.window.geometry(), area)

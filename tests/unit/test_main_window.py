"""The main window over a controller whose engine is not started (rows are injected).

Real aria2c runs are in tests/integration; here the window's own behaviour:
hide-on-close, telling the controller when it is seen, the drop and "Add"
hooks, filters, action states, the details pane and removing history rows.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from aria2_core.config import EngineSettings
from aria2_core.history import HistoryFile, HistoryRecord
from aria2_core.models import DownloadInfo
from aria2_core.paths import AppPaths
from desktop.controller import Controller
from desktop.download_model import Role
from desktop.main_window import MainWindow


@pytest.fixture
def controller() -> Iterator[Controller]:
    home = Path(tempfile.mkdtemp(prefix="at-"))
    paths = AppPaths.for_home(home)
    paths.ensure()
    c = Controller(paths, EngineSettings(download_dir=home / "dl"))
    c.history.merge(
        [
            HistoryRecord("done1", "done.iso", "complete", 10, str(home / "dl"),
                          (HistoryFile(str(home / "dl" / "done.iso"), ("http://h/done.iso",)),),
                          finished_at=2.0),
            HistoryRecord("fail1", "fail.zip", "error", 0, str(home / "dl"),
                          (HistoryFile(str(home / "dl" / "fail.zip"), ("http://h/fail.zip",)),),
                          error_code=3, error_message="Resource not found", finished_at=1.0),
        ]
    )  # fmt: skip
    try:
        yield c
    finally:
        c.stop_now()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def window(qtbot: Any, controller: Controller) -> MainWindow:
    w = MainWindow(controller)
    qtbot.addWidget(w)
    live = [
        DownloadInfo("act1", "active", 100, 50, 10, name="active.bin", dir="/dl"),
        DownloadInfo("pau1", "paused", 100, 10, name="paused.bin", dir="/dl"),
    ]
    controller.downloads_refreshed.emit(live + controller.history.downloads())
    return w


def select(window: MainWindow, gid: str) -> None:
    proxy = window.proxy
    for row in range(proxy.rowCount()):
        if proxy.index(row, 0).data(Role.GID) == gid:
            window.table.selectRow(row)
            return
    raise AssertionError(f"{gid} not shown")


def test_hidden_at_start_and_close_only_hides(
    qtbot: Any, window: MainWindow, controller: Controller
) -> None:
    assert not window.isVisible() and not controller.window_visible
    window.show_window()
    qtbot.waitUntil(window.isVisible)
    assert controller.window_visible
    window.close()
    assert not window.isVisible() and not controller.window_visible
    window.toggle_window()
    assert window.isVisible()
    window.toggle_window()
    assert not window.isVisible()


def test_rows_tabs_and_search(window: MainWindow) -> None:
    assert window.proxy.rowCount() == 4
    assert window.tabs.tabText(3) == "Paused (1)"
    assert window.tabs.tabText(4) == "Completed (1)"
    window.tabs.setCurrentIndex(3)  # Paused: under their own tab, not among the queued
    assert [window.proxy.index(r, 0).data() for r in range(window.proxy.rowCount())] == [
        "paused.bin"
    ]
    window.tabs.setCurrentIndex(2)  # Waiting
    assert window.proxy.rowCount() == 0
    window.tabs.setCurrentIndex(5)  # Failed
    assert [window.proxy.index(r, 0).data() for r in range(window.proxy.rowCount())] == ["fail.zip"]
    window.tabs.setCurrentIndex(0)
    window.search.setText("PAUSED")
    assert window.proxy.rowCount() == 1


def test_actions_follow_the_selection(window: MainWindow) -> None:
    actions = window.window_actions.actions
    assert not actions["pause"].isEnabled() and not actions["remove"].isEnabled()
    select(window, "pau1")
    assert actions["resume"].isEnabled() and not actions["pause"].isEnabled()
    assert actions["move_up"].isEnabled() and actions["speed_limit"].isEnabled()
    select(window, "fail1")
    assert actions["retry"].isEnabled() and not actions["open_file"].isEnabled()
    select(window, "done1")
    assert actions["open_file"].isEnabled() and actions["copy_link"].isEnabled()


def test_details_show_the_error_of_a_failed_download(qtbot: Any, window: MainWindow) -> None:
    select(window, "fail1")
    qtbot.waitUntil(lambda: window.details.gid == "fail1")
    # aria2's code 3 in a sentence, then aria2's own words.
    assert window.details.error.text().split("\n\n")[:2] == [
        "The file was not found on the server.",
        "Resource not found",
    ]
    assert window.details.links.topLevelItem(0).text(0) == "http://h/fail.zip"


def test_removing_a_history_row_needs_no_engine(
    qtbot: Any, window: MainWindow, controller: Controller
) -> None:
    select(window, "done1")
    window.window_actions.ask_remove = lambda records: (True, False)  # type: ignore[method-assign]
    window.window_actions.actions["remove"].trigger()
    qtbot.waitUntil(lambda: "done1" not in controller.history)
    qtbot.waitUntil(lambda: window.model.row_of("done1") == -1)


def test_add_action_emits_add_requested(qtbot: Any, window: MainWindow) -> None:
    with qtbot.waitSignal(window.add_requested, timeout=1000):
        window.window_actions.actions["add"].trigger()


def _drag(mime: QMimeData) -> QDragEnterEvent:
    return QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )


def test_drops_go_to_the_drop_handler_hook(window: MainWindow) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl("http://example.com/a.iso")])
    enter = _drag(mime)
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()  # no handler yet: not a drop target
    received: list[list[str]] = []
    window.drop_handler = lambda data: bool(received.append([u.toString() for u in data.urls()]))
    enter = _drag(mime)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    assert received == [["http://example.com/a.iso"]]


def test_tray_show_hide_hook_toggles_the_window(
    qtbot: Any, window: MainWindow, controller: Controller
) -> None:
    """The app connects Tray.toggle_window (left-click, "Show/Hide") to the window."""
    from desktop.tray import Tray

    tray = Tray(controller)
    tray.toggle_window.connect(window.toggle_window)
    show_hide = next(a for a in tray.menu.actions() if a.objectName() == "tray-window")
    show_hide.trigger()
    assert window.isVisible()
    show_hide.trigger()
    assert not window.isVisible()


def test_list_problem_shows_in_the_window_until_it_goes_away(
    window: MainWindow, controller: Controller
) -> None:
    """The controller's list_problem (e.g. history not writable) is visible, then cleared."""
    window.show()
    label = window.list_problem_label
    assert not label.isVisible()
    controller.list_problem.emit("cannot write /x/history.json: No space left on device")
    assert label.isVisible()
    assert "No space left on device" in label.text()
    controller.list_problem.emit("")
    assert not label.isVisible()

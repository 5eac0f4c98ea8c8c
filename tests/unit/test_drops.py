"""Drops with real ``QMimeData`` through ``QDropEvent``: onto the window and the drop zone.

The controller's engine is not started: what a drop does is journal one
entry (the controller's promise) and report the bad items. Both happen on
the journal worker; ``DropHandler.handled`` says when, and only then is the
drop shown as added. The real aria2c side is in
tests/integration/test_drops_live.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QByteArray, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from aria2_core.journal import LinkJournal
from desktop.app_ui import AppUi
from desktop.controller import Notice
from desktop.drop_handling import DropHandler
from desktop.drop_zone import DropZone
from desktop.main_window import MainWindow
from desktop.tray import Tray
from support.app_world import WAIT_MS, AppWorld

MAGNET = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=demo"


@pytest.fixture
def ui(qtbot: Any, world: AppWorld) -> AppUi:
    controller = world.controller(start=False)
    prefs = world.preferences(controller)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    tray = Tray(controller)
    ui = AppUi(controller, prefs, tray, lambda: window)
    world.on_close(ui.close)
    return ui


def drop(qtbot: Any, ui: AppUi, widget: Any, mime: QMimeData) -> QDropEvent:
    """Drag ``mime`` onto ``widget`` and drop it; return once the drop is handled (journaled)."""
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dragEnterEvent(enter)
    assert enter.isAccepted()
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(ui.drops.handled, timeout=WAIT_MS):
        widget.dropEvent(event)
    return event


def pending(world: AppWorld) -> list[Any]:
    return LinkJournal(world.paths.journal_file).pending()


def notices(ui: AppUi) -> list[Notice]:
    got: list[Notice] = []
    ui.drops._controller.notice.connect(got.append)
    return got


def test_uri_list_of_files_and_urls_onto_the_window(
    qtbot: Any, ui: AppUi, world: AppWorld, tmp_path: Path
) -> None:
    torrent = tmp_path / "a b.torrent"
    torrent.write_bytes(b"d4:infod4:name1:xee")
    metalink = tmp_path / "c.meta4"
    metalink.write_text("<metalink/>")
    readme = tmp_path / "readme.txt"
    readme.write_text("hi")
    mime = QMimeData()
    mime.setUrls(
        [
            QUrl.fromLocalFile(str(torrent)),
            QUrl.fromLocalFile(str(metalink)),
            QUrl("http://example.com/a.iso"),
            QUrl.fromLocalFile(str(readme)),
            QUrl.fromLocalFile(str(tmp_path / "gone.torrent")),
        ]
    )
    told = notices(ui)
    event = drop(qtbot, ui, ui.window, mime)
    assert event.isAccepted()
    (entry,) = pending(world)
    assert list(entry.items) == [str(torrent), str(metalink), "http://example.com/a.iso"]
    assert entry.source == "drop"
    (notice,) = told
    assert notice.title == "2 item(s) not added"
    # Long paths are cut in the middle (they depend on where the temp folder is);
    # each line still names its file and says why.
    first, second = notice.text.splitlines()
    assert first.startswith(str(readme)[:20]) and "readme.txt: only .torrent" in first
    assert first.endswith(": only .torrent, .metalink and .meta4 files can be added")
    assert second.startswith(str(tmp_path)[:20]) and second.endswith("gone.torrent: file not found")


def test_browser_html_and_plain_text_drops(qtbot: Any, ui: AppUi, world: AppWorld) -> None:
    html = QMimeData()
    html.setHtml('<a href="http://h/x.iso">X</a> and <a href="ftp://h/y.bin">Y</a>')
    html.setText("X and Y")
    drop(qtbot, ui, ui.window, html)
    text = QMimeData()
    text.setText(f"Look: https://h/one.zip and {MAGNET}\nhtps://typo/z.bin\n")
    told = notices(ui)
    drop(qtbot, ui, ui.window, text)
    first, second = pending(world)
    assert list(first.items) == ["http://h/x.iso", "ftp://h/y.bin"]
    assert list(second.items) == ["https://h/one.zip", MAGNET]
    (notice,) = told
    assert "htps://typo/z.bin" in notice.text and "not supported" in notice.text


def test_a_drop_with_nothing_good_is_refused_with_a_message(
    qtbot: Any, ui: AppUi, world: AppWorld
) -> None:
    mime = QMimeData()
    mime.setText("ftp2://nope/x\nmagnet:?dn=no-hash\n")
    told = notices(ui)
    event = drop(qtbot, ui, ui.window, mime)
    assert not event.isAccepted()
    assert pending(world) == []
    (notice,) = told
    assert notice.title == "Nothing was added"
    assert len(notice.text.splitlines()) == 2


def test_a_thousand_links_are_one_journal_entry(qtbot: Any, ui: AppUi, world: AppWorld) -> None:
    mime = QMimeData()
    urls = [f"http://127.0.0.1:9/file-{n}.bin" for n in range(1000)]
    mime.setData("text/uri-list", QByteArray("\r\n".join(urls).encode()))
    drop(qtbot, ui, ui.window, mime)
    (entry,) = pending(world)
    assert list(entry.items) == urls


def test_the_drop_zone_takes_drops_and_remembers_its_place(
    qtbot: Any, ui: AppUi, world: AppWorld
) -> None:
    ui.set_drop_zone_visible(True)
    zone = ui.drop_zone
    assert isinstance(zone, DropZone) and zone.isVisible()
    flags = zone.windowFlags()
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert flags & Qt.WindowType.FramelessWindowHint
    assert ui._tray.action("dropzone").isChecked()
    assert world.store.load().drop_zone_visible

    mime = QMimeData()
    mime.setText(MAGNET)
    assert drop(qtbot, ui, zone, mime).isAccepted()
    (entry,) = pending(world)
    assert list(entry.items) == [MAGNET]

    with qtbot.waitSignal(zone.moved, timeout=5000):
        zone.move(zone.pos() + QPoint(-30, -40))
    saved = world.store.load().drop_zone_pos
    assert saved == (zone.pos().x(), zone.pos().y())

    # Hidden from its own menu: the tray's check mark and the settings follow.
    zone.hide_requested.emit()
    assert not zone.isVisible()
    assert not ui._tray.action("dropzone").isChecked()
    assert not world.store.load().drop_zone_visible
    # Back at the saved place.
    ui._tray.action("dropzone").trigger()
    assert zone.isVisible() and (zone.pos().x(), zone.pos().y()) == saved


def test_drop_handler_returns_false_without_links(world: AppWorld) -> None:
    controller = world.controller(start=False)
    handler = DropHandler(controller)
    mime = QMimeData()
    mime.setText("no links here at all")
    assert handler(mime) is False


def _right_click_closing_the_menu(widget: Any, pos: QPoint) -> None:
    """Send a real context-menu event; close whatever popup it opened (exec or popup)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication

    def close_popup() -> None:
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()

    QTimer.singleShot(50, close_popup)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, event)
    close_popup()


def test_right_clicks_do_not_pile_up_menus(qtbot: Any, ui: AppUi) -> None:
    """Each right-click used to leave one more QMenu behind (window rows and drop zone)."""
    from PySide6.QtWidgets import QMenu

    ui.set_drop_zone_visible(True)
    zone = ui.drop_zone
    assert zone is not None
    window = ui.window
    window.show()
    viewport = window.table.viewport()
    for _ in range(5):
        _right_click_closing_the_menu(zone, QPoint(5, 5))
        _right_click_closing_the_menu(viewport, QPoint(5, 5))
    assert len(zone.findChildren(QMenu)) == 1
    assert len(window.findChildren(QMenu)) <= 1 + len(window.menuBar().findChildren(QMenu))


def test_a_long_rejected_path_keeps_its_file_name(qtbot: Any, ui: AppUi, tmp_path: Path) -> None:
    """A notice cuts a long path in the middle, so the file it is about stays readable."""
    deep = tmp_path.joinpath(*(["a-rather-long-folder-name"] * 6))
    deep.mkdir(parents=True)
    readme = deep / "the-file-you-dropped.txt"
    readme.write_text("hi")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(readme))])
    told = notices(ui)
    drop(qtbot, ui, ui.window, mime)
    (notice,) = told
    (line,) = notice.text.splitlines()
    assert "…" in line and len(line) < len(str(readme))
    assert "the-file-you-dropped.txt: only .torrent" in line


def test_a_drop_the_journal_cannot_take_is_not_shown_as_added(
    qtbot: Any, ui: AppUi, world: AppWorld
) -> None:
    """The fsync fails on the journal worker: the user is told, and no "Added" shows."""
    world.paths.journal_file.mkdir()  # a folder where the journal belongs: every write fails
    ui.set_drop_zone_visible(True)
    zone = ui.drop_zone
    assert zone is not None
    mime = QMimeData()
    mime.setText(MAGNET)
    told = notices(ui)
    drop(qtbot, ui, zone, mime)
    assert ui.drops.last_outcome.added == 0
    assert not zone.confirming
    (notice,) = told
    assert notice.title == "Links not added" and notice.is_error
    assert "journal.jsonl" in notice.text  # the OSError, naming the file

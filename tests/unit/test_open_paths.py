"""Open file / Open folder say so when nothing on the computer can open them (issue 9, item 16).

Under the offscreen platform Qt has no way to open a document (as on a
desktop without xdg-open or a default application): the window must say
so, not stay silent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aria2_core.models import DownloadInfo, FileInfo
from desktop.download_model import Role
from desktop.main_window import MainWindow
from desktop.notifications import Notifier
from desktop.tray import Tray
from support.app_world import AppWorld


def test_open_file_and_folder_say_when_nothing_opens_them(
    qtbot: Any, world: AppWorld, tmp_path: Path
) -> None:
    controller = world.controller(start=False)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    folder = tmp_path / "dl"
    folder.mkdir()
    (folder / "done.iso").write_bytes(b"x" * 10)
    done = DownloadInfo(
        "g1", "complete", 10, 10, name="done.iso", dir=str(folder),
        files=[FileInfo(1, str(folder / "done.iso"), 10, 10, True)],
    )  # fmt: skip
    controller._publish([done], busy=False, finished=[])
    window.show()
    window.table.selectRow(0)
    assert window.table.model().index(0, 0).data(Role.GID) == "g1"

    window.window_actions.actions["open_file"].trigger()
    message = window.statusBar().currentMessage()
    assert "done.iso" in message and "open" in message.lower(), message

    window.statusBar().clearMessage()
    window.window_actions.actions["open_folder"].trigger()
    message = window.statusBar().currentMessage()
    assert str(folder) in message and "open" in message.lower(), message


def test_a_notice_click_that_opens_nothing_says_so(
    world: AppWorld, tmp_path: Path, caplog: Any
) -> None:
    controller = world.controller(start=False)
    tray = Tray(controller)
    notifier = Notifier(controller, tray)  # kept: a collected notifier hears nothing
    done = DownloadInfo(
        "g1", "complete", 10, 10, name="done.iso", dir=str(tmp_path),
        files=[FileInfo(1, str(tmp_path / "done.iso"), 10, 10, True)],
    )  # fmt: skip
    controller.downloads_finished.emit([done])
    caplog.set_level("INFO", logger="aria_tray.tray")
    caplog.clear()
    tray._message_clicked()  # what a click on the "Download complete" balloon does
    said = [r.getMessage() for r in caplog.records if r.name == "aria_tray.tray"]
    assert any(str(tmp_path) in line and "open" in line.lower() for line in said), said
    assert notifier.enabled


def test_the_tray_open_folder_says_when_nothing_opens_it(world: AppWorld, caplog: Any) -> None:
    controller = world.controller(start=False)
    tray = Tray(controller)
    caplog.set_level("INFO", logger="aria_tray.tray")
    tray.action("folder").trigger()
    said = [r.getMessage() for r in caplog.records if r.name == "aria_tray.tray"]
    assert any(str(world.download_dir) in line for line in said), said

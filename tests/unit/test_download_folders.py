"""Where downloads go: the platform's Downloads folder, and the add dialog following Settings.

Issue 9, items 8 and 9. The dialog and the settings are real; the engine
is not started (a folder change waits for it, as it would while starting).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from desktop.add_dialog import AddDialog
from desktop.settings import AppSettings
from support.app_world import AppWorld
from support.platforms import only_on


@only_on("linux", "XDG user dirs")
def test_default_folder_follows_xdg_user_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    # No ~/Downloads and no user-dirs.dirs: still ~/Downloads, never $HOME itself.
    assert Path(AppSettings().download_dir) == home / "Downloads"

    (home / ".config" / "user-dirs.dirs").write_text(
        'XDG_DOWNLOAD_DIR="$HOME/下载"\n', encoding="utf-8"
    )
    (home / "下载").mkdir()
    assert Path(AppSettings().download_dir) == home / "下载"


def _dialog(qtbot: Any, world: AppWorld) -> tuple[AddDialog, Any]:
    controller = world.controller(start=False)
    prefs = world.preferences(controller)
    dialog = AddDialog(controller, prefs)
    qtbot.addWidget(dialog)
    dialog.reset()
    dialog.show()
    return dialog, prefs


def _add(qtbot: Any, dialog: AddDialog, url: str) -> None:
    dialog.links_edit.setPlainText(url)
    dialog.check_links()
    with qtbot.waitSignal(dialog.added):  # journaled on the journal worker
        dialog.submit()


def _apply_folder(qtbot: Any, prefs: Any, folder: Path) -> None:
    done: list[list[str]] = []
    prefs.apply(replace(prefs.settings, download_dir=str(folder)), done.append)
    qtbot.waitUntil(lambda: bool(done))
    assert done == [[]]


def test_add_dialog_folder_follows_settings_unless_picked(
    qtbot: Any, world: AppWorld, tmp_path: Path
) -> None:
    dialog, prefs = _dialog(qtbot, world)
    assert dialog.folder_edit.text() == str(world.download_dir)
    _add(qtbot, dialog, "http://example.invalid/a.iso")  # added to the default folder

    elsewhere = tmp_path / "elsewhere"
    _apply_folder(qtbot, prefs, elsewhere)
    dialog.reset()
    assert dialog.folder_edit.text() == str(elsewhere), "the default was remembered as a pick"

    picked = tmp_path / "picked"
    dialog.folder_edit.setText(str(picked))
    _add(qtbot, dialog, "http://example.invalid/b.iso")
    dialog.reset()
    assert dialog.folder_edit.text() == str(picked), "a folder picked in the dialog stays"

    newest = tmp_path / "newest"
    _apply_folder(qtbot, prefs, newest)
    dialog.reset()
    assert dialog.folder_edit.text() == str(newest), "a new Settings folder wins over old picks"

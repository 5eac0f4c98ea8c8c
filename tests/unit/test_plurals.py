"""Counted words read right in English and 简体中文; the remove question names what goes.

Issue 9, item 15. The real catalogs are installed the way the app installs
them (``desktop.i18n.install_translators``), then real widgets are read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale

from aria2_core.models import DownloadInfo
from desktop import i18n
from desktop.add_dialog import AddDialog
from desktop.main_window import MainWindow
from desktop.notifications import Notifier
from desktop.tray import Tray
from support.app_world import AppWorld


@pytest.fixture(params=["en", "zh_CN"])
def language(request: Any, qapp: Any) -> Iterator[str]:
    before = QLocale()
    setup = i18n.install_translators(qapp, request.param)
    try:
        yield request.param
    finally:
        for translator in setup.translators:
            qapp.removeTranslator(translator)
        QLocale.setDefault(before)


WORDS = {
    "en": {
        "one": "1 link ready",
        "two": "2 links ready",
        "mixed": "1 link ready, 1 line with problems",
        "remove_one": "Remove “a.iso” from the list?",
        "remove_many": "Remove these 3 downloads from the list?",
        "title": "1 downloaded, 1 failed",
        "done_line": "good.iso: downloaded",
    },
    "zh_CN": {
        "one": "1 个链接就绪",
        "two": "2 个链接就绪",
        "mixed": "1 个链接就绪，1 行有问题",
        "remove_one": "从列表中删除“a.iso”？",
        "remove_many": "从列表中删除这 3 个下载？",
        "title": "1 个已下载，1 个失败",
        "done_line": "good.iso：已下载",
    },
}


def test_counts_in_the_add_dialog(qtbot: Any, world: AppWorld, language: str) -> None:
    words = WORDS[language]
    controller = world.controller(start=False)
    dialog = AddDialog(controller, world.preferences(controller))
    qtbot.addWidget(dialog)
    dialog.links_edit.setPlainText("http://h/a.iso\n")
    dialog.check_links()
    assert dialog.summary.text() == words["one"]
    dialog.links_edit.setPlainText("http://h/a.iso\nhttp://h/b.iso\n")
    dialog.check_links()
    assert dialog.summary.text() == words["two"]
    dialog.links_edit.setPlainText("http://h/a.iso\nhtp:/broken\n")
    dialog.check_links()
    assert dialog.summary.text() == words["mixed"]


def test_the_remove_question_names_what_it_removes(
    qtbot: Any, world: AppWorld, language: str, tmp_path: Path
) -> None:
    words = WORDS[language]
    window = MainWindow(world.controller(start=False))
    qtbot.addWidget(window)
    rows = [DownloadInfo(f"g{n}", "paused", name=f"{c}.iso") for n, c in enumerate("abc")]
    box, _check = window.window_actions.remove_box(rows[:1])
    assert box.text() == words["remove_one"]
    box, _check = window.window_actions.remove_box(rows)
    assert box.text() == words["remove_many"]
    assert [line.lstrip("• ") for line in box.informativeText().splitlines()] == [
        "a.iso",
        "b.iso",
        "c.iso",
    ]
    if os.environ.get("ARIA_TRAY_SHOTS"):  # a look by hand: ARIA_TRAY_SHOTS=<folder>
        box.show()
        qtbot.waitExposed(box)
        box.grab().save(str(Path(os.environ["ARIA_TRAY_SHOTS"]) / f"remove-{language}.png"))
        box.hide()


def test_a_mixed_notice_says_which_download_succeeded(
    qtbot: Any, world: AppWorld, language: str
) -> None:
    words = WORDS[language]
    controller = world.controller(start=False)
    notifier = Notifier(controller, Tray(controller))
    shown: list[tuple[str, str, str]] = []
    notifier.notified.connect(lambda *args: shown.append(args))
    good = DownloadInfo("g1", "complete", 10, 10, name="good.iso", dir=str(world.download_dir))
    bad = DownloadInfo("g2", "error", name="bad.zip", error_code=3)
    controller.downloads_finished.emit([good, bad])
    title, text, _folder = shown[-1]
    assert title == words["title"]
    assert words["done_line"] in text.splitlines()

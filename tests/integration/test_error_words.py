"""A failed download says why in words, and what became of its file (issue 9, item 12).

A real aria2c checks a real file against a checksum that does not match.
"""

from __future__ import annotations

from typing import Any

from desktop.main_window import MainWindow
from desktop.notifications import Notifier
from desktop.tray import Tray
from support.app_world import WAIT_MS, AppWorld
from support.http_server import PayloadFactory


def test_a_checksum_mismatch_is_a_sentence_that_names_the_kept_file(
    qtbot: Any, world: AppWorld, payload_factory: PayloadFactory
) -> None:
    c = world.controller()
    window = MainWindow(c)
    qtbot.addWidget(window)
    notes: list[tuple[str, str]] = []
    notifier = Notifier(c, Tray(c))
    notifier.notified.connect(lambda title, text, _folder: notes.append((title, text)))
    payload = payload_factory("sum.bin", 64 * 1024)

    c.submit([payload.url], "test", {"checksum": "sha-256=" + "0" * 64})
    qtbot.waitUntil(lambda: bool(notes), timeout=WAIT_MS)

    _title, text = notes[0]
    assert "error 32" not in text
    assert "checksum" in text.lower(), text
    (info,) = [r for r in c.downloads() if r.status == "error"]
    assert info.error_code == 32
    kept = world.download_dir / "sum.bin"
    assert kept.is_file(), "the file stays for the user to judge"

    window.show()
    for row in range(window.proxy.rowCount()):
        window.table.selectRow(row)
    qtbot.waitUntil(lambda: bool(window.details.error.text()), timeout=WAIT_MS)
    details = window.details.error.text()
    assert "checksum" in details.lower() and "32" not in details.split("\n")[0], details
    assert str(kept) in details or "sum.bin" in details, details
    world.stop(c)

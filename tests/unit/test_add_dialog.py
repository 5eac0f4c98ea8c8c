"""The add dialog: per-line messages, pasted text, options, one batch per "Add"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData

from aria2_core.journal import LinkJournal
from desktop.add_dialog import AddDialog
from support.app_world import WAIT_MS, AppWorld

SHA = "0f" * 32


@pytest.fixture
def dialog(qtbot: Any, world: AppWorld) -> AddDialog:
    controller = world.controller(start=False)
    d = AddDialog(controller, world.preferences(controller))
    qtbot.addWidget(d)
    d.show()
    return d


def problems(d: AddDialog) -> list[str]:
    return [d.problems.item(i).text() for i in range(d.problems.count())]


def pending(world: AppWorld) -> list[Any]:
    return LinkJournal(world.paths.journal_file).pending()


def add(qtbot: Any, d: AddDialog) -> None:
    """Click "Add"; return once the batch is on disk (journaled on the journal worker)."""
    with qtbot.waitSignal(d.added, timeout=WAIT_MS):
        d.submit()
        assert not d.add_button.isEnabled(), "a second click could add it twice"


def test_each_bad_line_has_its_own_message_and_good_lines_go_in(
    qtbot: Any, dialog: AddDialog, world: AppWorld, tmp_path: Path
) -> None:
    torrent = tmp_path / "t.torrent"
    torrent.write_bytes(b"d4:infod4:name1:xee")
    dialog.links_edit.setPlainText(
        "http://h/a.iso\n"
        "gopher://h/b\n"
        "http://\n"
        f"{torrent}\n"
        "/nowhere/c.torrent\n"
        "\n"
        "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567\n"
    )
    dialog.check_links()
    assert problems(dialog) == [
        "Line 2: scheme “gopher” is not supported (use http, https, ftp, sftp or magnet)"
        " — gopher://h/b",
        "Line 3: malformed URL (no host name) — http://",
        "Line 5: file not found — /nowhere/c.torrent",
    ]
    assert dialog.summary.text() == "3 link(s) ready, 3 line(s) with problems"
    assert dialog.add_button.isEnabled()

    add(qtbot, dialog)
    (entry,) = pending(world)
    assert list(entry.items) == [
        "http://h/a.iso",
        str(torrent),
        "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567",
    ]
    assert entry.source == "add dialog"
    assert entry.options == {}  # nothing changed from the defaults
    # The dialog stays, holding only what was not added.
    assert dialog.isVisible()
    assert dialog.links_edit.toPlainText() == "gopher://h/b\nhttp://\n/nowhere/c.torrent\n"
    assert dialog.summary.text().startswith("Added 3 download(s).")


def test_options_of_a_single_link(
    qtbot: Any, dialog: AddDialog, world: AppWorld, tmp_path: Path
) -> None:
    folder = tmp_path / "isos"
    dialog.links_edit.setPlainText("https://h/big.iso")
    dialog.folder_edit.setText(str(folder))
    dialog.name_edit.setText("renamed.iso")
    dialog.connections.setValue(3)
    dialog.split.setValue(5)
    dialog.referer_edit.setText("https://h/")
    dialog.agent_edit.setText("Agent/2")
    dialog.cookie_edit.setText("session=abc")
    dialog.headers_edit.setPlainText("X-One: 1\nX-Two: 2\n")
    dialog.checksum_edit.setText(f"SHA256={SHA.upper()}")
    dialog.paused_box.setChecked(True)
    add(qtbot, dialog)
    assert not dialog.isVisible()  # everything went in: it closes
    (entry,) = pending(world)
    assert entry.options == {
        "dir": str(folder),
        "out": "renamed.iso",
        "max-connection-per-server": "3",
        "split": "5",
        "referer": "https://h/",
        "user-agent": "Agent/2",
        "header": ["Cookie: session=abc", "X-One: 1", "X-Two: 2"],
        "checksum": f"sha-256={SHA}",
        "pause": "true",
    }
    # The folder is remembered for next time.
    assert world.store.load().add_folder == str(folder)
    dialog.reset()
    assert dialog.folder_edit.text() == str(folder)


def test_bad_fields_block_adding_with_a_message(dialog: AddDialog, world: AppWorld) -> None:
    dialog.links_edit.setPlainText("https://h/a\nhttps://h/b\n")
    dialog.checksum_edit.setText("sha-256=1234")
    dialog.headers_edit.setPlainText("not a header\n")
    dialog.submit()
    assert pending(world) == []
    text = dialog.field_errors.text()
    assert "Checksum: the digest is not hexadecimal of the right length" in text
    assert "Header “not a header”: write it as Name: value" in text
    assert not dialog.name_edit.isEnabled()  # file name: a single link only


def test_pasting_a_block_of_text_picks_out_its_links(dialog: AddDialog) -> None:
    mime = QMimeData()
    mime.setText(
        "Hi! The files are at https://h/one.iso and https://h/two.iso.\n"
        "Magnet: magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567 thanks"
    )
    dialog.links_edit.insertFromMimeData(mime)
    assert dialog.links_edit.toPlainText().splitlines() == [
        "https://h/one.iso",
        "https://h/two.iso",
        "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567",
    ]
    html = QMimeData()
    html.setHtml('<a href="https://h/three.iso">three</a>')
    html.setText("three")
    dialog.links_edit.insertFromMimeData(html)
    assert dialog.links_edit.toPlainText().splitlines()[-1] == "https://h/three.iso"
    plain = QMimeData()
    plain.setText("no links")
    dialog.links_edit.insertFromMimeData(plain)  # pasted as it is
    assert dialog.links_edit.toPlainText().endswith("no links")


def test_a_journal_that_cannot_be_written_keeps_the_dialog_and_says_so(
    qtbot: Any, dialog: AddDialog, world: AppWorld
) -> None:
    """Journaled on the worker: its error comes back to the dialog, and nothing is lost."""
    world.paths.journal_file.mkdir()  # a folder where the journal belongs: every write fails
    dialog.links_edit.setPlainText("http://h/kept.iso\n")
    dialog.check_links()
    added: list[int] = []
    dialog.added.connect(added.append)
    dialog.submit()
    qtbot.waitUntil(dialog.field_errors.isVisible)
    assert "The links could not be recorded" in dialog.field_errors.text()
    assert dialog.isVisible() and dialog.add_button.isEnabled()  # try again
    assert dialog.links_edit.toPlainText() == "http://h/kept.iso\n"
    assert added == []

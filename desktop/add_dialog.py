"""The "Add download" dialog: many links at once, with per-download options.

Each line is one URL, magnet link or .torrent/.metalink path; pasting or
dropping a block of text (a web page, a chat message) puts its links in,
one per line. Every line is checked as you type, and each bad one gets its
own message under the box. "Add" sends the good lines as one batch (one
journal entry, one ``system.multicall``) through ``Controller.submit_later``
and keeps the dialog open with only the bad lines left, so nothing the
user typed is silently dropped. The entry is written and fsync'd on the
controller's journal worker, not the GUI thread; the dialog closes (or
keeps the bad lines) and ``added`` is emitted only once it is on disk, and
"Add" waits meanwhile, so a second click cannot add the batch twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aria2_core.add_options import AddFields, build_options
from aria2_core.duplicates import AGAIN_OPTIONS
from aria2_core.errors import LinkError
from aria2_core.links import Link, parse_link

from .drop_handling import mime_items
from .duplicate_links import Ask, Choice, ask_with_a_box, split_duplicates
from .messages import field_problem, link_reason
from .resources import icon

if TYPE_CHECKING:
    from .controller import Batch, Controller
    from .preferences import Preferences

CHECK_DELAY_MS = 250
ERROR_COLOR = QColor("#b42318")


class LinksEdit(QPlainTextEdit):
    """A plain-text box that turns pasted or dropped text into one link per line."""

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return source.hasUrls() or source.hasHtml() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        items = mime_items(source)
        if not items:
            super().insertFromMimeData(source)  # no links: paste it as it is
            return
        cursor = self.textCursor()
        prefix = "\n" if cursor.positionInBlock() > 0 else ""
        cursor.insertText(prefix + "\n".join(items) + "\n")
        self.setTextCursor(cursor)


class AddDialog(QDialog):
    """Non-modal; the app keeps one and raises it when asked again."""

    added = Signal(int)  # links journaled (on disk), so handed to the controller
    show_requested = Signal(str)  # gid: "Show it" for a link that is already a download

    def __init__(
        self, controller: Controller, preferences: Preferences, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("add-dialog")
        self.setWindowTitle(self.tr("Add downloads"))
        self.setWindowIcon(icon())
        self._controller = controller
        self._preferences = preferences
        self._links: list[Link] = []
        self._bad_lines: list[str] = []
        # Replaceable in tests: the question about links already in the list.
        self.ask_duplicates: Ask = lambda duplicates: ask_with_a_box(self, duplicates)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.check_links)
        self._build()
        self.reset()

    # -- construction ----------------------------------------------------------
    def _build(self) -> None:
        self.links_edit = LinksEdit()
        self.links_edit.setObjectName("links")
        self.links_edit.setPlaceholderText(
            self.tr(
                "One per line: http(s), ftp or sftp URLs, magnet links, or paths of "
                ".torrent and .metalink files. Paste a whole text and its links are picked out."
            )
        )
        self.links_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.links_edit.textChanged.connect(self._check_timer.start)
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        files_button = QPushButton(self.tr("Add torrent or metalink files…"))
        files_button.clicked.connect(self._choose_files)
        self.problems = QListWidget()
        self.problems.setObjectName("problems")
        # One row per bad line: long ones are elided, the tooltip has all of it.
        self.problems.setWordWrap(False)
        self.problems.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.problems.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.problems.hide()

        self.folder_edit = QLineEdit()
        self.folder_edit.setObjectName("folder")
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("file-name")
        self.name_edit.setPlaceholderText(self.tr("Only for a single link"))
        self.connections = QSpinBox()
        self.connections.setRange(1, 16)
        self.split = QSpinBox()
        self.split.setRange(1, 64)
        conn_row = QHBoxLayout()
        conn_row.addWidget(self.connections)
        conn_row.addWidget(QLabel(self.tr("Split into:")))
        conn_row.addWidget(self.split)
        conn_row.addStretch(1)
        self.checksum_edit = QLineEdit()
        self.checksum_edit.setObjectName("checksum")
        self.checksum_edit.setPlaceholderText(self.tr("sha-256=… (optional, single link)"))
        self.paused_box = QCheckBox(self.tr("Start paused"))
        self.paused_box.setObjectName("paused")
        form = QFormLayout()
        form.addRow(self.tr("Save to:"), folder_row)
        form.addRow(self.tr("File name:"), self.name_edit)
        form.addRow(self.tr("Connections per server:"), conn_row)
        form.addRow(self.tr("Checksum:"), self.checksum_edit)
        form.addRow("", self.paused_box)

        self.referer_edit = QLineEdit()
        self.agent_edit = QLineEdit()
        self.agent_edit.setPlaceholderText(self.tr("The default from Settings"))
        self.cookie_edit = QLineEdit()
        self.cookie_edit.setPlaceholderText(self.tr("name=value; other=value"))
        self.headers_edit = QPlainTextEdit()
        self.headers_edit.setObjectName("headers")
        self.headers_edit.setPlaceholderText(self.tr("One per line, e.g. Authorization: Bearer …"))
        self.headers_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 14)
        http = QGroupBox(self.tr("HTTP request"))
        http_form = QFormLayout(http)
        http_form.addRow(self.tr("Referer:"), self.referer_edit)
        http_form.addRow(self.tr("User agent:"), self.agent_edit)
        http_form.addRow(self.tr("Cookie:"), self.cookie_edit)
        http_form.addRow(self.tr("Extra headers:"), self.headers_edit)

        self.field_errors = QLabel()
        self.field_errors.setObjectName("field-errors")
        self.field_errors.setWordWrap(True)
        self.field_errors.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.field_errors.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = buttons.addButton(self.tr("Add"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setObjectName("add")
        self.add_button.setDefault(True)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(files_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Links:")))
        layout.addWidget(self.links_edit, 1)
        layout.addLayout(top)
        layout.addWidget(self.problems)
        layout.addLayout(form)
        layout.addWidget(http)
        layout.addWidget(self.field_errors)
        layout.addWidget(buttons)
        self.resize(640, 640)

    def reset(self, text: str = "") -> None:
        """Fresh fields from the settings (the folder: one picked here before, else Settings')."""
        settings = self._preferences.settings
        engine = self._controller.engine_settings()
        self.folder_edit.setText(settings.add_folder or str(engine.download_dir))
        self.connections.setValue(engine.max_connection_per_server)
        self.split.setValue(min(engine.split, self.split.maximum()))
        for edit in (self.name_edit, self.checksum_edit, self.referer_edit, self.cookie_edit):
            edit.clear()
        self.agent_edit.clear()
        self.headers_edit.clear()
        self.paused_box.setChecked(False)
        self.field_errors.hide()
        self.links_edit.setPlainText(text)
        self.check_links()

    # -- checking ---------------------------------------------------------------
    def check_links(self) -> None:
        """Parse every line now; list a message for each bad one."""
        self._check_timer.stop()
        links: dict[Link, None] = {}
        self._bad_lines = []
        self.problems.clear()
        for number, raw in enumerate(self.links_edit.toPlainText().splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                links.setdefault(parse_link(line), None)
            except LinkError as exc:
                self._bad_lines.append(line)
                message = self.tr("Line {line}: {reason} — {text}").format(
                    line=number, reason=link_reason(exc), text=line
                )
                item = QListWidgetItem(message)
                item.setForeground(ERROR_COLOR)
                item.setToolTip(message)
                self.problems.addItem(item)
        self._links = list(links)
        self._fit_problems()
        count, bad = len(self._links), len(self._bad_lines)
        if not count and not bad:
            self.summary.setText(self.tr("No links yet."))
        elif bad:
            self.summary.setText(
                self.tr("{links}, {problems}").format(
                    links=self.tr("%n link(s) ready", "", count),
                    problems=self.tr("%n line(s) with problems", "", bad),
                )
            )
        else:
            self.summary.setText(self.tr("%n link(s) ready", "", count))
        self.add_button.setEnabled(count > 0)
        self.name_edit.setEnabled(count <= 1)

    def _fit_problems(self) -> None:
        """As tall as its messages, up to a few lines; the links box keeps the rest."""
        count = self.problems.count()
        self.problems.setVisible(count > 0)
        if count:
            rows = sum(self.problems.sizeHintForRow(i) for i in range(min(count, 5)))
            self.problems.setFixedHeight(rows + 2 * self.problems.frameWidth() + 4)

    @property
    def links(self) -> list[Link]:
        return list(self._links)

    @property
    def bad_lines(self) -> list[str]:
        return list(self._bad_lines)

    def fields(self) -> AddFields:
        engine = self._controller.engine_settings()
        connections = self.connections.value()
        split = self.split.value()
        folder = self.folder_edit.text().strip()
        return AddFields(
            folder="" if folder == str(engine.download_dir) else folder,
            file_name=self.name_edit.text(),
            connections=0 if connections == engine.max_connection_per_server else connections,
            split=0 if split == engine.split else split,
            referer=self.referer_edit.text(),
            user_agent=self.agent_edit.text(),
            cookie=self.cookie_edit.text(),
            headers=self.headers_edit.toPlainText().splitlines(),
            checksum=self.checksum_edit.text(),
            paused=self.paused_box.isChecked(),
        )

    # -- adding -----------------------------------------------------------------
    def submit(self) -> None:
        """Add the good lines as one batch; keep only the bad lines in the box."""
        self.check_links()
        if not self._links:
            return
        options, problems = build_options(self.fields(), len(self._links))
        if problems:
            self.field_errors.setText("\n".join(field_problem(p) for p in problems))
            self.field_errors.show()
            return
        self.field_errors.hide()
        fresh, duplicates = split_duplicates(self._links, self._controller.downloads())
        again: list[str] = []
        if duplicates:
            choice = self.ask_duplicates(duplicates)
            if choice == Choice.SHOW:
                self.show_requested.emit(duplicates[0].existing.gid)
            elif choice == Choice.AGAIN:
                again = [d.link.value for d in duplicates]
        items = [link.value for link in fresh]
        batches: list[Batch] = []
        if items:
            batches.append((items, options, "add dialog"))
        if again:
            batches.append((again, {**options, **AGAIN_OPTIONS}, "add dialog"))
        picked, bad_lines = self.fields().folder, list(self._bad_lines)
        self.add_button.setEnabled(False)  # until the batch is on disk: never added twice

        def journaled(_entries: list[str]) -> None:
            self._journaled(picked, len(items), len(again), bad_lines)

        self._controller.submit_later(batches, journaled, self._not_journaled)

    def _journaled(self, picked: str, fresh: int, again: int, bad_lines: list[str]) -> None:
        """The batch is on disk: remember the folder, close, or keep the bad lines."""
        # Remember a folder picked here; the Settings folder is not a pick, so
        # the dialog keeps following Settings when that changes.
        if picked != self._preferences.settings.add_folder:
            self._preferences.remember(add_folder=picked)
        self.added.emit(fresh + again)
        if bad_lines:
            self.links_edit.setPlainText("\n".join(bad_lines) + "\n")
            self.check_links()
            self.summary.setText(
                self.tr("Added %n download(s). These lines were not added:", "", fresh)
            )
            return
        self.accept()

    def _not_journaled(self, exc: BaseException) -> None:
        self.check_links()  # "Add" again, for another try
        self.field_errors.setText(
            self.tr("The links could not be recorded: {error}").format(error=exc)
        )
        self.field_errors.show()

    # -- pickers -----------------------------------------------------------------
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Save downloads to"), self.folder_edit.text()
        )
        if folder:
            self.folder_edit.setText(folder)

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Add torrent or metalink files"),
            str(Path.home()),
            self.tr("Torrents and metalinks (*.torrent *.metalink *.meta4)"),
        )
        if paths:
            text = self.links_edit.toPlainText()
            joined = "\n".join(paths)
            self.links_edit.setPlainText(f"{text.rstrip()}\n{joined}\n" if text.strip() else joined)
            self.check_links()

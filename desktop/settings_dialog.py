"""The Settings dialog: the fields of :class:`AppSettings`, checked before they apply.

"OK" does three things, in order, and stops at the first problem:

1. local checks (a folder path, a proxy on one line, extra options in
   ``key=value`` shape, none forbidden or unknown to the chosen aria2c, and
   that aria2c itself exists); the option list comes from the binary
   (``aria2c --help=#all``) on a worker thread, so checking never freezes
   the dialog;
2. if a change needs aria2c restarted, the user is asked (and told why);
3. :meth:`Preferences.apply`; a refusal from aria2 keeps the dialog open
   with aria2's message, nothing saved.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aria2_core.live_options import RestartReason
from aria2_core.option_catalog import check_extra_lines, format_extra_lines

from .messages import aria2_refusal, restart_reason
from .option_check import OptionChecker
from .path_field import PathField
from .resources import icon
from .settings import LANGUAGES, AppSettings

if TYPE_CHECKING:
    from .preferences import Preferences

KB = 1000  # limits are typed in kB/s, the unit the rest of the app shows (formatting.py)
MAX_LIMIT_KB = 10_000_000
CHECK_DELAY_MS = 400
ERROR_STYLE = "color: #b42318;"


def _row(*widgets: QWidget, stretch: bool = False) -> QHBoxLayout:
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget, 1 if isinstance(widget, QLineEdit) else 0)
    if stretch:
        row.addStretch(1)
    return row


class SettingsDialog(QDialog):
    """Edits a copy of the settings; applies it through :class:`Preferences`."""

    # A new language was applied and the user wants to see it now: the app
    # quits in its orderly way and starts again.
    app_restart_requested = Signal()

    def __init__(self, preferences: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings-dialog")
        self.setWindowTitle(self.tr("Aria Tray Settings"))
        self.setWindowIcon(icon())
        self._preferences = preferences
        self._checker = OptionChecker(preferences.controller, self)
        self._checker.problems.connect(self._show_extra)
        self._applying = False
        # Replaceable in tests; the default asks with a message box.
        self.confirm_restart: Callable[[list[RestartReason]], bool] = self._ask_restart
        self.confirm_app_restart: Callable[[], bool] = self._ask_app_restart
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(lambda: self._check_extra(None))
        self.tabs = QTabWidget()
        self.tabs.addTab(self._downloads_tab(), self.tr("Downloads"))
        self.tabs.addTab(self._network_tab(), self.tr("Network"))
        self.tabs.addTab(self._general_tab(), self.tr("General"))
        self.tabs.addTab(self._advanced_tab(), self.tr("Advanced"))
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.load(preferences.settings)
        self.resize(600, 480)

    # -- tabs ---------------------------------------------------------------------
    def _downloads_tab(self) -> QWidget:
        self.folder = PathField(
            "download-dir",
            lambda parent, current: QFileDialog.getExistingDirectory(
                parent, self.tr("Download folder"), current
            ),
        )
        self.folder_edit = self.folder.edit
        self.concurrent = self._spin(1, 100)
        self.connections = self._spin(1, 16)
        self.split = self._spin(1, 64)
        self.down_limit = self._limit_spin()
        self.up_limit = self._limit_spin()
        page = QWidget()
        form = QFormLayout(page)
        form.addRow(self.tr("Download folder:"), self.folder)
        form.addRow(self.tr("Downloads at the same time:"), _row(self.concurrent, stretch=True))
        form.addRow(self.tr("Connections per server:"), _row(self.connections, stretch=True))
        form.addRow(self.tr("Split each download into:"), _row(self.split, stretch=True))
        form.addRow(self.tr("Download limit:"), _row(self.down_limit, stretch=True))
        form.addRow(self.tr("Upload limit:"), _row(self.up_limit, stretch=True))
        return page

    def _network_tab(self) -> QWidget:
        self.agent_edit = QLineEdit()
        self.agent_edit.setObjectName("user-agent")
        self.agent_edit.setPlaceholderText(self.tr("aria2's own"))
        self.proxy_edit = QLineEdit()
        self.proxy_edit.setObjectName("proxy")
        self.proxy_edit.setPlaceholderText(self.tr("http://user:password@host:port"))
        self.seed_ratio = QDoubleSpinBox()
        self.seed_ratio.setRange(0.0, 1000.0)
        self.seed_ratio.setSingleStep(0.1)
        self.seed_ratio.setDecimals(1)
        self.seed_ratio.setSpecialValueText(self.tr("No ratio limit"))
        self.seed_time_box = QCheckBox(self.tr("Stop seeding after"))
        self.seed_time = QDoubleSpinBox()
        self.seed_time.setRange(0.0, 1_000_000.0)
        self.seed_time.setDecimals(0)
        self.seed_time.setSuffix(self.tr(" min"))
        self.seed_time_box.toggled.connect(self.seed_time.setEnabled)
        page = QWidget()
        form = QFormLayout(page)
        form.addRow(self.tr("User agent:"), self.agent_edit)
        form.addRow(self.tr("Proxy (all protocols):"), self.proxy_edit)
        form.addRow(self.tr("BitTorrent seed ratio:"), _row(self.seed_ratio, stretch=True))
        form.addRow(
            self.tr("BitTorrent seed time:"), _row(self.seed_time_box, self.seed_time, stretch=True)
        )
        return page

    def _general_tab(self) -> QWidget:
        self.minimized_box = QCheckBox(self.tr("Start in the tray (window hidden)"))
        self.login_box = QCheckBox(self.tr("Start Aria Tray when I log in"))
        self.notify_box = QCheckBox(self.tr("Notify when downloads finish or fail"))
        self.language = QComboBox()
        self.language.setObjectName("language")
        names = {"": self.tr("System"), "en": "English", "zh_CN": "简体中文"}
        for code in LANGUAGES:
            self.language.addItem(names[code], code)
        hint = QLabel(self.tr("A new language shows after Aria Tray restarts."))
        hint.setEnabled(False)
        page = QWidget()
        form = QFormLayout(page)
        form.addRow(self.minimized_box)
        form.addRow(self.login_box)
        form.addRow(self.notify_box)
        form.addRow(self.tr("Language:"), _row(self.language, stretch=True))
        form.addRow("", hint)
        return page

    def _advanced_tab(self) -> QWidget:
        self.binary = PathField(
            "aria2c-path",
            lambda parent, _: QFileDialog.getOpenFileName(parent, self.tr("Choose aria2c"))[0],
        )
        self.binary_edit = self.binary.edit
        self.binary_edit.setPlaceholderText(self.tr("The aria2c that comes with Aria Tray"))
        self.binary_edit.textChanged.connect(self._check_timer.start)
        self.extra_edit = QPlainTextEdit()
        self.extra_edit.setObjectName("extra-options")
        self.extra_edit.setPlaceholderText(
            self.tr("One option per line, for example:\nmax-tries=10\nmin-split-size=4M")
        )
        self.extra_edit.textChanged.connect(self._check_timer.start)
        self.extra_problems = QLabel()
        self.extra_problems.setObjectName("extra-problems")
        self.extra_problems.setWordWrap(True)
        self.extra_problems.setStyleSheet(ERROR_STYLE)
        self.extra_problems.hide()
        page = QWidget()
        layout = QVBoxLayout(page)
        form = QFormLayout()
        form.addRow(self.tr("aria2c program:"), self.binary)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("Extra aria2c options (key=value, one per line):")))
        layout.addWidget(self.extra_edit, 1)
        layout.addWidget(self.extra_problems)
        return page

    def _spin(self, low: int, high: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        return spin

    def _limit_spin(self) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(0, MAX_LIMIT_KB)
        spin.setSingleStep(100)
        spin.setSuffix(self.tr(" kB/s"))
        spin.setSpecialValueText(self.tr("Unlimited"))
        spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("10000000 kB/s") + 40)
        return spin

    # -- values -------------------------------------------------------------------
    def load(self, s: AppSettings) -> None:
        self._base = s
        self.folder_edit.setText(s.download_dir)
        self.concurrent.setValue(s.max_concurrent_downloads)
        self.connections.setValue(s.max_connection_per_server)
        self.split.setValue(min(s.split, self.split.maximum()))
        self.down_limit.setValue(round(s.download_limit / KB))
        self.up_limit.setValue(round(s.upload_limit / KB))
        self.agent_edit.setText(s.user_agent)
        self.proxy_edit.setText(s.proxy)
        self.seed_ratio.setValue(s.seed_ratio)
        self.seed_time_box.setChecked(s.seed_time is not None)
        self.seed_time.setEnabled(s.seed_time is not None)
        self.seed_time.setValue(s.seed_time if s.seed_time is not None else 60.0)
        self.minimized_box.setChecked(s.start_minimized)
        self.login_box.setChecked(s.start_at_login)
        self.notify_box.setChecked(s.notifications)
        self.language.setCurrentIndex(max(0, self.language.findData(s.language)))
        self.binary_edit.setText(s.aria2c_path)
        self.extra_edit.setPlainText(format_extra_lines(s.extra_options))
        self._show_overrides(s)

    def _show_overrides(self, s: AppSettings) -> None:
        """A field the environment overrides shows the value in use, locked, and says why.

        The saved value would name a folder downloads do not go to; it stays
        in :meth:`values`, so OK never writes the environment's into the file.
        """
        running = self._preferences.controller.engine_settings()
        in_use = {
            "download_dir": (self.folder, str(running.download_dir)),
            "aria2c_path": (self.binary, running.binary_override or ""),
        }
        for name, variable in self._preferences.env_overrides.items():
            field, value = in_use[name]
            saved = getattr(s, name) or self.tr("none")
            field.lock(
                value,
                self.tr("Set by {variable} for this run (saved setting: {saved}).").format(
                    variable=variable, saved=saved
                ),
            )

    def values(self) -> AppSettings:
        """The dialog's settings (extra options as far as they parse)."""
        extra = check_extra_lines(self.extra_edit.toPlainText())
        folder, binary = self.folder_edit.text().strip(), self.binary_edit.text().strip()
        return replace(
            self._base,
            download_dir=self._base.download_dir if self.folder.is_locked() else folder,
            max_concurrent_downloads=self.concurrent.value(),
            max_connection_per_server=self.connections.value(),
            split=self.split.value(),
            download_limit=self.down_limit.value() * KB,
            upload_limit=self.up_limit.value() * KB,
            seed_ratio=round(self.seed_ratio.value(), 1),
            seed_time=self.seed_time.value() if self.seed_time_box.isChecked() else None,
            user_agent=self.agent_edit.text().strip(),
            proxy=self.proxy_edit.text().strip(),
            start_minimized=self.minimized_box.isChecked(),
            start_at_login=self.login_box.isChecked(),
            notifications=self.notify_box.isChecked(),
            language=str(self.language.currentData() or ""),
            aria2c_path=self._base.aria2c_path if self.binary.is_locked() else binary,
            extra_options=extra.options,
        )

    # -- checking -----------------------------------------------------------------
    def _check_extra(self, then: Callable[[bool], None] | None) -> None:
        binary, text = self.binary_edit.text().strip(), self.extra_edit.toPlainText()
        self._checker.check(binary, text, then)

    def _show_extra(self, lines: list[str]) -> None:
        self.extra_problems.setText("\n".join(lines))
        self.extra_problems.setVisible(bool(lines))

    def local_problems(self, s: AppSettings) -> list[str]:
        problems = []
        if not s.download_dir:
            problems.append(self.tr("Choose a download folder."))
        elif not os.path.isabs(os.path.expanduser(s.download_dir)):
            problems.append(self.tr("The download folder must be a full path."))
        if any(c.isspace() for c in s.proxy):
            problems.append(self.tr("The proxy address cannot contain spaces."))
        return problems

    # -- applying -----------------------------------------------------------------
    def apply(self) -> None:
        """OK: check, maybe ask about a restart, apply; close only when it all worked."""
        if self._applying:
            return
        new = self.values()
        problems = self.local_problems(new)
        if problems:
            self._fail(problems, tab=0)
            return
        self._set_busy(True, self.tr("Checking…"))
        self._check_extra(lambda ok: self._after_check(ok, new))

    def _after_check(self, ok: bool, new: AppSettings) -> None:
        if not ok:
            self._fail([self.tr("Fix the problems on the Advanced tab.")], tab=3)
            return
        reasons = self._preferences.restart_reasons(new)
        if reasons and not self.confirm_restart(reasons):
            self._set_busy(False)
            return
        self._set_busy(True, self.tr("Applying…"))
        self._preferences.apply(new, self._applied)

    def _applied(self, problems: list[str]) -> None:
        if problems:
            # A value aria2c could not parse is most likely an extra option: show that tab.
            bad_option = any("processing the option" in p for p in problems)
            self._fail(
                [
                    self.tr("aria2 refused the change: {error}").format(error=aria2_refusal(p))
                    for p in problems
                ],
                tab=3 if bad_option else None,
            )
            return
        self._set_busy(False)
        language_changed = self._preferences.settings.language != self._base.language
        self.accept()
        if language_changed and self.confirm_app_restart():
            self.app_restart_requested.emit()

    def _fail(self, problems: list[str], tab: int | None = None) -> None:
        self._set_busy(False)
        self.status.setText("\n".join(problems))
        self.status.show()
        if tab is not None:
            self.tabs.setCurrentIndex(tab)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._applying = busy
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not busy)
        if busy:
            self.status.setStyleSheet("")
            self.status.setText(text)
            self.status.show()
        else:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.hide()

    def _ask_app_restart(self) -> bool:
        box = QMessageBox(self.parentWidget())
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Restart Aria Tray?"))
        box.setText(self.tr("The new language shows after Aria Tray restarts. Restart now?"))
        box.setInformativeText(self.tr("Downloads continue after the restart."))
        restart = box.addButton(self.tr("Restart now"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Later"), QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is restart

    def _ask_restart(self, reasons: list[RestartReason]) -> bool:
        listed = "\n".join(f"• {restart_reason(r)}" for r in reasons)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Restart the download engine?"))
        box.setText(
            self.tr(
                "These settings take effect when aria2c restarts. Running downloads "
                "stop for a moment and then continue."
            )
        )
        box.setInformativeText(listed)
        restart = box.addButton(self.tr("Restart now"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is restart

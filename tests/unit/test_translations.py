"""The zh_CN translation covers every UI string, and the app loads it.

The committed ``.ts`` is compared with what ``pyside6-lupdate`` extracts from
the sources *now*, so a new ``tr()`` string that nobody translated, or a
translated string whose source text changed, fails here with the exact
strings to fix (``make translations``, then ``tools/translations.py todo``).
The committed ``.qm`` is checked against the ``.ts`` by loading it, string
by string, which does not depend on lrelease producing identical bytes.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QSettings, Qt, QTranslator

from aria2_core.config import EngineSettings
from aria2_core.models import DownloadInfo
from aria2_core.paths import AppPaths
from desktop import i18n
from desktop.controller import Controller
from desktop.download_model import Column, DownloadTableModel
from desktop.engine import EngineState
from desktop.main_window import MainWindow
from desktop.messages import engine_state_text
from desktop.tray import Tray

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from translations import qt_tool  # noqa: E402  (the one place that finds Qt's tools)

TRANSLATIONS = ROOT / "resources" / "translations"
TS = TRANSLATIONS / "aria_tray_zh_CN.ts"
QM = TRANSLATIONS / "aria_tray_zh_CN.qm"
FIX = "run `make translations`, then translate with `python tools/translations.py todo`/`apply`"
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")

Key = tuple[str, str]  # (context, source)


def read_ts(path: Path) -> dict[Key, tuple[str, str]]:
    """``{(context, source): (translation, type attribute)}`` of a ``.ts`` file."""
    entries: dict[Key, tuple[str, str]] = {}
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            forms = [] if translation is None else translation.findall("numerusform")
            if forms:  # a %n string: its plural forms, one per line
                text = "\n".join(form.text or "" for form in forms)
            else:
                text = "" if translation is None else (translation.text or "")
            kind = "" if translation is None else translation.get("type", "")
            entries[(name, message.findtext("source") or "")] = (text, kind)
    return entries


def lupdate_tool() -> str:
    found = qt_tool("pyside6-lupdate")
    assert shutil.which(found), "pyside6-lupdate not found (it comes with PySide6)"
    return found


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[Key, tuple[str, str]]:
    """What lupdate finds in every desktop/ source file today, in a fresh .ts."""
    target = tmp_path_factory.mktemp("lupdate") / "fresh_zh_CN.ts"
    sources = sorted(
        str(p) for p in (ROOT / "desktop").rglob("*.py") if "__pycache__" not in p.parts
    )
    result = subprocess.run(
        [lupdate_tool(), *sources, "-locations", "none", "-target-language", "zh_CN",
         "-ts", str(target)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return read_ts(target)


@pytest.fixture(scope="module")
def committed() -> dict[Key, tuple[str, str]]:
    assert TS.is_file(), f"{TS} is missing; {FIX}"
    return read_ts(TS)


def _listing(keys: list[Key]) -> str:
    return "\n".join(f"  {context}: {source!r}" for context, source in sorted(keys))


def test_every_source_string_is_in_the_committed_ts(
    extracted: dict[Key, tuple[str, str]], committed: dict[Key, tuple[str, str]]
) -> None:
    assert len(extracted) > 50, "lupdate found suspiciously few strings"
    missing = [key for key in extracted if key not in committed]
    assert not missing, f"strings not in {TS.name} ({FIX}):\n{_listing(missing)}"


def test_the_committed_ts_has_no_stale_strings(
    extracted: dict[Key, tuple[str, str]], committed: dict[Key, tuple[str, str]]
) -> None:
    stale = [key for key in committed if key not in extracted]
    assert not stale, f"strings no longer in the sources ({FIX}):\n{_listing(stale)}"


def test_every_string_is_translated(committed: dict[Key, tuple[str, str]]) -> None:
    bad = [key for key, (text, kind) in committed.items() if kind or not text.strip()]
    assert not bad, f"untranslated, unfinished or vanished in {TS.name} ({FIX}):\n{_listing(bad)}"


def test_translations_keep_their_placeholders(committed: dict[Key, tuple[str, str]]) -> None:
    wrong = [
        f"  {context}: {source!r} -> {text!r}"
        for (context, source), (text, _) in committed.items()
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text))
    ]
    assert not wrong, "a translation must keep every {placeholder}:\n" + "\n".join(wrong)


def test_the_committed_qm_matches_the_ts(committed: dict[Key, tuple[str, str]]) -> None:
    translator = QTranslator()
    assert translator.load(str(QM)), f"{QM} does not load; {FIX}"
    outdated = [
        f"  {context}: {source!r}: .qm has {translator.translate(context, source)!r}"
        for (context, source), (text, kind) in committed.items()
        if not kind
        and text
        and "%n" not in source
        and translator.translate(context, source) != text
    ]
    assert not outdated, f"{QM.name} is older than {TS.name} (make translations):\n" + "\n".join(
        outdated
    )


# Qt calls that put text on screen; a literal (or f-string) handed to one of them
# never reaches lupdate, so the tests above cannot see that it is untranslated.
UI_SETTERS = frozenset({
    "setText", "setWindowTitle", "setToolTip", "setStatusTip", "setWhatsThis",
    "setPlaceholderText", "setSpecialValueText", "setSuffix", "setPrefix", "setTitle",
    "setLabelText", "setInformativeText", "setDetailedText", "setTabText", "setItemText",
    "setHeaderLabels", "setNameFilter", "setAccessibleName", "addAction", "addMenu", "addTab",
    "insertTab", "addItem", "addItems", "addRow", "addButton", "showMessage", "information",
    "warning", "critical", "question", "getInt", "getDouble", "getText", "getItem",
    "getExistingDirectory", "getOpenFileName", "getOpenFileNames",
})  # fmt: skip
UI_CONSTRUCTORS = frozenset({
    "QLabel", "QPushButton", "QCheckBox", "QRadioButton", "QGroupBox", "QAction", "QMenu",
    "QToolBar", "QToolButton", "QListWidgetItem", "QTreeWidgetItem", "QMessageBox", "Notice",
})  # fmt: skip
LOGGERS = frozenset({"log", "logger", "logging"})
NOT_TRANSLATED = "# i18n: as is"  # on the line of a string that must stay untranslated


def _untranslated_literals(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and func.value.id in LOGGERS:
                continue
            wanted = func.attr in UI_SETTERS
        else:
            wanted = isinstance(func, ast.Name) and func.id in UI_CONSTRUCTORS
        if not wanted or NOT_TRANSLATED in lines[node.lineno - 1]:
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            if (literal and any(c.isalpha() for c in arg.value)) or isinstance(arg, ast.JoinedStr):
                where = path.relative_to(ROOT)
                found.append(f"  {where}:{node.lineno}: {ast.unparse(arg)[:70]}")
    return found


def test_no_ui_text_bypasses_tr() -> None:
    """Text given to a widget straight from a literal is text nobody can translate."""
    found = [
        line
        for path in sorted((ROOT / "desktop").rglob("*.py"))
        if "__pycache__" not in path.parts
        for line in _untranslated_literals(path)
    ]
    assert not found, (
        "wrap these in self.tr() / QCoreApplication.translate() (or mark the line "
        f"{NOT_TRANSLATED!r} if it must stay as is):\n" + "\n".join(found)
    )


@pytest.fixture
def zh_app(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[i18n.LanguageSetup]:
    """The running QApplication speaking zh_CN; translators and default locale undone after."""
    before = QLocale()
    setup = i18n.install_translators(qapp, "zh_CN")
    try:
        yield setup
    finally:
        for translator in setup.translators:
            qapp.removeTranslator(translator)
        QLocale.setDefault(before)


@pytest.mark.parametrize(
    ("context", "source", "expected"),
    [
        ("Tray", "Pause all", "全部暂停"),
        ("Tray", "Quit", "退出"),
        ("WindowActions", "Open folder", "打开所在文件夹"),
        ("WindowActions", "Copy link", "复制链接"),
        ("DownloadTableModel", "Downloading", "正在下载"),
        ("DownloadTableModel", "Completed", "已完成"),
    ],
)
def test_known_strings_translate(
    zh_app: i18n.LanguageSetup, context: str, source: str, expected: str
) -> None:
    assert zh_app.language == "zh_CN"
    assert QCoreApplication.translate(context, source) == expected


def test_qt_own_catalog_is_loaded_with_ours(zh_app: i18n.LanguageSetup) -> None:
    qt_catalog = i18n.qt_translations_dir() / "qtbase_zh_CN.qm"
    if not qt_catalog.is_file():
        pytest.skip(f"this Qt ships no {qt_catalog.name}")
    assert qt_catalog in zh_app.loaded
    # QDialogButtonBox / QMessageBox standard buttons come from this context.
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"


def test_the_main_window_speaks_chinese(zh_app: i18n.LanguageSetup, qtbot: Any) -> None:
    """Real widgets, not just the catalog: tr() contexts match what lupdate saw."""
    home = Path(tempfile.mkdtemp(prefix="at-i18n-"))
    paths = AppPaths.for_home(home)
    paths.ensure()
    controller = Controller(paths, EngineSettings(download_dir=home / "dl"))
    try:
        window = MainWindow(controller)
        qtbot.addWidget(window)
        actions = window.window_actions.actions
        assert actions["pause"].text() == "暂停"
        assert actions["open_folder"].text() == "打开所在文件夹"
        assert window.tabs.tabText(0).startswith("全部")
        assert window.model.headerData(0, Qt.Orientation.Horizontal) == "名称"
    finally:
        controller.stop_now()
        shutil.rmtree(home, ignore_errors=True)


def test_qts_own_file_dialog_speaks_chinese(zh_app: i18n.LanguageSetup, qtbot: Any) -> None:
    """Issue 9, item 26: Qt's non-native file dialog ("Look in:", "Files of type:")."""
    from PySide6.QtWidgets import QFileDialog, QLabel

    dialog = QFileDialog(None, "x")
    qtbot.addWidget(dialog)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    labels = [label.text() for label in dialog.findChildren(QLabel) if label.text()]
    assert len(labels) >= 3
    english = [text for text in labels if re.search("[A-Za-z]{3}", text)]
    assert not english, f"still English in the file dialog: {english}"


@pytest.fixture
def controller() -> Iterator[Controller]:
    """A controller whose engine is never started (state: stopped)."""
    home = Path(tempfile.mkdtemp(prefix="at-i18n-"))
    paths = AppPaths.for_home(home)
    paths.ensure()
    c = Controller(paths, EngineSettings(download_dir=home / "dl"))
    try:
        yield c
    finally:
        c.stop_now()
        shutil.rmtree(home, ignore_errors=True)


def test_the_tray_names_the_engine_state_in_chinese(
    zh_app: i18n.LanguageSetup, controller: Controller
) -> None:
    """Not "下载引擎状态：stopped…": the state word is translated too."""
    tray = Tray(controller)
    assert controller.engine.state == EngineState.STOPPED
    assert tray.tooltip() == "Aria Tray：下载引擎未运行"


def test_every_engine_state_has_words_of_its_own(zh_app: i18n.LanguageSetup) -> None:
    texts = {state: engine_state_text(state) for state in EngineState}
    assert len(set(texts.values())) == len(EngineState)
    untranslated = {s: t for s, t in texts.items() if re.search("[A-Za-z]", t)}
    assert not untranslated


def test_the_eta_has_chinese_units(zh_app: i18n.LanguageSetup) -> None:
    def active(gid: str, left: int, speed: int) -> DownloadInfo:
        return DownloadInfo(gid=gid, status="active", total_length=left, download_speed=speed)

    model = DownloadTableModel()
    model.update([active("a", 159, 1), active("b", 3720, 1), active("c", 12, 1)])
    etas = [model.data(model.index(row, Column.ETA)) for row in range(3)]
    assert etas == ["2分39秒", "1小时02分", "12秒"]


# -- choosing the language ---------------------------------------------------------


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    monkeypatch.delenv(i18n.LANGUAGE_ENV, raising=False)
    return AppPaths.for_home(tmp_path / "home")


def write_language(paths: AppPaths, value: str, key: str = "app/language") -> None:
    paths.home.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(paths.settings_file), QSettings.Format.IniFormat)
    settings.setValue(key, value)
    settings.sync()


def test_choice_defaults_to_system(paths: AppPaths) -> None:
    assert i18n.language_choice(paths) == "system"
    assert i18n.language_choice(None) == "system"


def test_choice_comes_from_the_settings_dialogs_choice(paths: AppPaths) -> None:
    """desktop/settings.py stores the dialog's choice as ``app/language`` ("" = system)."""
    write_language(paths, "", key="app/language")
    assert i18n.language_choice(paths) == "system"
    write_language(paths, "zh_CN", key="app/language")
    assert i18n.language_choice(paths) == "zh_CN"


def test_the_environment_overrides_the_settings(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_language(paths, "zh_CN")
    monkeypatch.setenv(i18n.LANGUAGE_ENV, "en")
    assert i18n.language_choice(paths) == "en"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("zh_CN", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("zh_SG", "zh_CN"),  # Simplified script elsewhere
        ("zh_TW", "en"),  # Traditional: better English than the wrong script
        ("en", "en"),
        ("fr_FR", "en"),
        ("nonsense", "en"),
    ],
)
def test_resolve_language(choice: str, expected: str) -> None:
    assert i18n.resolve_language(choice, ["zh_CN"]) == expected


def test_system_choice_follows_the_desktop_locale(tmp_path: Path) -> None:
    """QLocale.system() reads LC_ALL/LANG once per process, hence a child process."""
    code = "from desktop.i18n import resolve_language; print(resolve_language('system'))"
    for lang, expected in (("zh_CN.UTF-8", "zh_CN"), ("en_US.UTF-8", "en")):
        env = {**os.environ, "LC_ALL": lang, "LANG": lang, "LANGUAGE": ""}
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=60, check=True,
        ).stdout.strip()  # fmt: skip
        assert out == expected, lang


def test_a_missing_catalog_means_english_silently(
    qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "translations_dir", lambda: tmp_path / "none")
    before = QLocale()
    try:
        setup = i18n.install_translators(qapp, "zh_CN")
        assert setup.language == "en" and setup.translators == [] and setup.loaded == []
        assert QCoreApplication.translate("Tray", "Quit") == "Quit"
    finally:
        QLocale.setDefault(before)


def test_english_loads_only_its_plural_forms(qapp: Any) -> None:
    before = QLocale()
    setup = i18n.install_translators(qapp, "en")
    try:
        assert setup.language == "en"
        assert [p.name for p in setup.loaded] == ["aria_tray_en.qm"]
        assert QCoreApplication.translate("Tray", "Quit") == "Quit"
        assert QCoreApplication.translate("AddDialog", "%n link(s) ready", "", 1) == "1 link ready"
    finally:
        for translator in setup.translators:
            qapp.removeTranslator(translator)
        QLocale.setDefault(before)


def test_the_catalog_ships_with_the_package() -> None:
    """pip installs translations/*.qm (pyproject) and the bundle takes resources/ whole."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["setuptools"]["package-data"]["aria_tray.resources.translations"] == [
        "*.qm"
    ]
    assert i18n.shipped_languages() == ["zh_CN"]


def test_every_aria2_error_code_has_a_sentence_in_both_languages(
    zh_app: i18n.LanguageSetup,
) -> None:
    """Issue 9, item 12: no "error 32"; each code aria2 documents reads as a sentence."""
    from desktop import aria2_errors

    codes = range(33)
    assert set(codes) <= aria2_errors.KNOWN_CODES
    chinese = {code: aria2_errors.error_sentence(code) for code in codes}
    english = {code: aria2_errors._SENTENCES[code] for code in codes}
    assert len(set(english.values())) == len(english), "two codes share a sentence"
    assert len(set(chinese.values())) == len(chinese)
    for code in codes:
        assert chinese[code] != english[code], f"code {code} is not translated"
        assert str(code) not in chinese[code] and re.search("[\u4e00-\u9fff]", chinese[code])


def test_every_plural_has_english_forms(extracted: dict[Key, tuple[str, str]]) -> None:
    """Issue 9, item 15: "%n link(s)" reads "1 link" / "2 links" in English too."""
    english = TRANSLATIONS / "aria_tray_en.qm"
    translator = QTranslator()
    assert translator.load(str(english)), f"{english} does not load; {FIX}"
    plurals = [key for key in extracted if "%n" in key[1]]
    assert len(plurals) >= 10
    wrong = []
    for context, source in plurals:
        one = translator.translate(context, source, "", 1)
        two = translator.translate(context, source, "", 2)
        if not one or "(s)" in one or "(s)" in two:
            wrong.append(f"  {context}: {source!r} -> {one!r} / {two!r}")
    assert not wrong, f"English plural forms missing ({FIX}):\n" + "\n".join(wrong)

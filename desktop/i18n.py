"""Which language the UI speaks, and the translators that make it speak it.

English is the source language: every string in ``desktop/`` is written in
English and wrapped in ``tr()`` / ``QCoreApplication.translate()``. Other
languages are compiled catalogs, ``resources/translations/aria_tray_<code>.qm``
(``make translations`` rebuilds them from the ``.ts`` files).

The choice comes from, in this order:

1. ``ARIA_TRAY_LANG`` (tests, screenshots, a quick look at another language);
2. the language chosen in Settings (``desktop.settings``; empty = system),
   ``"en"`` or ``"zh_CN"``;
3. ``"system"``: the desktop's locale (``QLocale.system()``).

:func:`install_translators` must run after ``QApplication`` exists and before
any widget is built: widgets call ``tr()`` while they build their labels and
do not re-translate on ``LanguageChange``, so a new choice applies at the
next start (Settings offers to restart the app at once). A catalog that is
missing or unreadable is not an error: the UI silently stays English,
because a half-installed translation must never stop the app from starting.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from aria2_core.paths import AppPaths

from .resources import resources_dir

if TYPE_CHECKING:
    # PySide6's stub says this returns ``object``; it returns its source text.
    # Modules that mark strings for lupdate import it from here to keep ``str``.
    def QT_TRANSLATE_NOOP(context: str, source: str, /) -> str: ...
else:
    from PySide6.QtCore import QT_TRANSLATE_NOOP

log = logging.getLogger("aria_tray.i18n")

LANGUAGE_ENV = "ARIA_TRAY_LANG"
SYSTEM = "system"
SOURCE_LANGUAGE = "en"
CATALOG = "aria_tray"  # aria_tray_<code>.qm
QT_CATALOG = "qtbase"  # Qt's own strings: standard dialog buttons, line-edit menus

# Qt's own zh_CN catalog lags Qt's sources: these file-dialog labels gained a
# mnemonic ("&") and so lost their translation ("Look in:" is translated,
# "&Look in:" is not). lupdate takes them into our catalog under Qt's own
# context, and Qt's lookup, which asks every installed translator, finds them.
QT_CATALOG_GAPS = (
    QT_TRANSLATE_NOOP("QFileDialog", "&Look in:"),
    QT_TRANSLATE_NOOP("QFileDialog", "Files of &type:"),
)

# What the settings dialog offers, each language named in itself.
LANGUAGES: dict[str, str] = {SOURCE_LANGUAGE: "English", "zh_CN": "简体中文"}


@dataclass
class LanguageSetup:
    """What :func:`install_translators` did, for the log and for tests."""

    choice: str
    language: str  # a code from LANGUAGES; SOURCE_LANGUAGE when nothing was loaded
    loaded: list[Path] = field(default_factory=list)
    translators: list[QTranslator] = field(default_factory=list)


def translations_dir() -> Path:
    """Where our ``.qm`` catalogs are, in a checkout, a pip install and a bundle."""
    return resources_dir() / "translations"


def language_choice(paths: AppPaths | None = None) -> str:
    """The configured choice: ``ARIA_TRAY_LANG``, the Settings choice, else ``"system"``.

    The settings file is read through ``desktop.settings``, the one place
    that knows its keys.
    """
    env = os.environ.get(LANGUAGE_ENV, "").strip()
    if env:
        return env
    if paths is None or not paths.settings_file.is_file():
        return SYSTEM
    from .settings import SettingsStore

    return SettingsStore(paths.settings_file).load().language or SYSTEM


def resolve_language(choice: str, available: list[str] | None = None) -> str:
    """The shipped language code for ``choice``, or :data:`SOURCE_LANGUAGE`.

    ``"system"`` asks ``QLocale.system()``. A locale matches a catalog when
    language and script agree, so ``zh_SG`` (Simplified) gets ``zh_CN`` and
    ``zh_TW`` (Traditional) stays English rather than reading the wrong script.
    """
    if available is None:
        available = shipped_languages()
    locale = QLocale.system() if choice == SYSTEM else QLocale(choice.replace("-", "_"))
    if choice != SYSTEM and locale.language() == QLocale.Language.C:
        return SOURCE_LANGUAGE  # not a locale name at all
    for code in available:
        ref = QLocale(code)
        if ref.language() == locale.language() and ref.script() == locale.script():
            return code
    return SOURCE_LANGUAGE


def shipped_languages() -> list[str]:
    """Codes of the catalogs present on disk (English is the source, always there).

    English's own catalog holds only plural forms, so it is not a language to offer.
    """
    folder = translations_dir()
    prefix = f"{CATALOG}_"
    try:
        names = sorted(p.stem for p in folder.glob(f"{prefix}*.qm"))
    except OSError:
        return []
    codes = [name.removeprefix(prefix) for name in names]
    return [code for code in codes if code != SOURCE_LANGUAGE]


def qt_translations_dir() -> Path:
    """Qt's own catalogs (``qtbase_*.qm``): the Qt install's translations path."""
    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))


def _load(app: QCoreApplication, path: Path) -> QTranslator | None:
    translator = QTranslator(app)  # parented: lives as long as the app
    if path.is_file() and translator.load(str(path)):
        app.installTranslator(translator)
        return translator
    translator.deleteLater()
    return None


def install_translators(app: QCoreApplication, choice: str | None = None) -> LanguageSetup:
    """Install our catalog and Qt's for the chosen language; English when none fits."""
    if choice is None:
        choice = language_choice()
    setup = LanguageSetup(choice=choice, language=resolve_language(choice))
    if setup.language == SOURCE_LANGUAGE:
        if choice != SYSTEM:
            QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
        # English plural forms ("%n link(s)" -> "1 link", "2 links") come from a catalog too.
        plurals = translations_dir() / f"{CATALOG}_{SOURCE_LANGUAGE}.qm"
        translator = _load(app, plurals)
        if translator is not None:
            setup.loaded.append(plurals)
            setup.translators.append(translator)
        log.info("UI language: English (choice %r)", choice)
        return setup
    ours = translations_dir() / f"{CATALOG}_{setup.language}.qm"
    translator = _load(app, ours)
    if translator is None:
        log.warning("no usable catalog %s; the UI stays English", ours)
        setup.language = SOURCE_LANGUAGE
        return setup
    setup.loaded.append(ours)
    setup.translators.append(translator)
    # Qt's own strings only with ours, so the UI never mixes two languages.
    qt_catalog = qt_translations_dir() / f"{QT_CATALOG}_{setup.language}.qm"
    qt_translator = _load(app, qt_catalog)
    if qt_translator is not None:
        setup.loaded.append(qt_catalog)
        setup.translators.append(qt_translator)
    QLocale.setDefault(QLocale(setup.language))
    log.info(
        "UI language: %s (choice %r; %s)",
        setup.language,
        choice,
        ", ".join(p.name for p in setup.loaded),
    )
    return setup

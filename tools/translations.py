"""Extract, fill in and compile the UI translations (``make translations``).

The ``.ts`` file under ``resources/translations/`` is the one source of
truth for a language: ``pyside6-lupdate`` writes the English source strings
into it (from every ``desktop/**/*.py``), a translator fills in the
translations (Qt Linguist, an editor, or ``apply`` below), and
``pyside6-lrelease`` compiles it into the ``.qm`` the app loads. Both the
``.ts`` and the ``.qm`` are committed, so a checkout and a pip install run
translated without Qt's tools; ``tests/unit/test_translations.py`` fails
when either falls behind the sources.

    python tools/translations.py update        # re-extract + compile (make translations)
    python tools/translations.py todo > t.json # untranslated strings, as JSON to fill in
    python tools/translations.py apply t.json  # write them into the .ts, then update
    python tools/translations.py check         # exit 1 if anything is unfinished

``todo`` prints ``{"<context>": {"<source>": "<translation or lupdate's guess>"}}``;
edit the values and give the file to ``apply``. Strings removed from the
sources are dropped from the ``.ts`` (``-no-obsolete``), so it never carries
dead entries.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "desktop"
TRANSLATIONS = ROOT / "resources" / "translations"
CATALOG = "aria_tray"
LANGUAGES = ("zh_CN",)
# English needs a catalog of its own only for plural forms ("%n link(s)" ->
# "1 link" / "2 links"): lupdate -pluralonly, filled in from the "(s)".
PLURALS_ONLY = "en"
PLURAL_S = re.compile(r"(\w+)\(s\)")
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True)
class Message:
    """One ``<message>`` of a ``.ts`` file."""

    context: str
    source: str
    translation: str
    state: str  # "" (finished), "unfinished", "vanished", "obsolete"

    @property
    def finished(self) -> bool:
        return not self.state and bool(self.translation)


def ts_path(language: str) -> Path:
    return TRANSLATIONS / f"{CATALOG}_{language}.ts"


def qm_path(language: str) -> Path:
    return TRANSLATIONS / f"{CATALOG}_{language}.qm"


def source_files() -> list[Path]:
    """Every Python file whose strings the UI may show."""
    return sorted(p for p in SOURCES.rglob("*.py") if "__pycache__" not in p.parts)


def qt_tool(name: str) -> str:
    """``pyside6-lupdate`` / ``pyside6-lrelease`` among this Python's scripts, else on PATH.

    The scripts folder is next to the interpreter in a venv on Linux, ``Scripts\\`` on
    Windows (with ``.exe``).
    """
    suffix = ".exe" if sys.platform == "win32" else ""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        if (folder / (name + suffix)).exists():
            return str(folder / (name + suffix))
    return shutil.which(name) or name


def lupdate(
    target: Path, language: str, *, keep_locations: bool = True, plurals_only: bool = False
) -> str:
    """Extract the strings into ``target``, keeping its translations; returns the report."""
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        qt_tool("pyside6-lupdate"),
        *(str(p) for p in source_files()),
        "-no-obsolete",
        *(["-pluralonly"] if plurals_only else []),
        "-locations",
        "relative" if keep_locations else "none",
        "-target-language",
        language,
        "-ts",
        str(target),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"pyside6-lupdate failed:\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


def lrelease(source: Path, target: Path) -> str:
    """Compile ``source`` (.ts) into ``target`` (.qm); unfinished entries are left out."""
    cmd = [qt_tool("pyside6-lrelease"), str(source), "-qm", str(target)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"pyside6-lrelease failed:\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


def _text(element: ET.Element | None) -> str:
    if element is None:
        return ""
    forms = element.findall("numerusform")
    if forms:
        return "\n".join(f.text or "" for f in forms)
    return element.text or ""


def read_ts(path: Path) -> list[Message]:
    """Every message of a ``.ts`` file, in file order."""
    messages = []
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            messages.append(
                Message(
                    context=name,
                    source=_text(message.find("source")),
                    translation=_text(translation),
                    state=translation.get("type", "") if translation is not None else "",
                )
            )
    return messages


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def problems(messages: list[Message]) -> list[str]:
    """Unfinished entries and translations whose ``{placeholders}`` differ from the source."""
    found = []
    for m in messages:
        where = f"{m.context}: {m.source!r}"
        if not m.finished:
            found.append(f"{where} is {m.state or 'untranslated'}")
        elif placeholders(m.source) != placeholders(m.translation):
            found.append(f"{where}: placeholders differ in {m.translation!r}")
    return found


def english_forms(source: str) -> list[str]:
    """``"%n link(s) ready"`` -> ``["%n link ready", "%n links ready"]`` (English's two forms)."""
    return [PLURAL_S.sub(r"\1", source), PLURAL_S.sub(r"\1s", source)]


def update_english_plurals() -> None:
    """The English plural catalog: every ``%n`` string, its forms made from the ``(s)``."""
    ts = ts_path(PLURALS_ONLY)
    lupdate(ts, PLURALS_ONLY, plurals_only=True)
    tree = ET.parse(ts)
    for message in tree.getroot().iter("message"):
        translation = message.find("translation")
        if translation is None:
            translation = ET.SubElement(message, "translation")
        for form in list(translation):
            translation.remove(form)
        translation.text = None
        translation.attrib.pop("type", None)
        for text in english_forms(_text(message.find("source"))):
            ET.SubElement(translation, "numerusform").text = text
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    lrelease(ts, qm_path(PLURALS_ONLY))
    print(f"{ts.relative_to(ROOT)}: English plural forms, compiled")


def update(language: str) -> list[str]:
    """Re-extract into the committed ``.ts`` and recompile its ``.qm``; returns problems."""
    update_english_plurals()
    ts = ts_path(language)
    report = lupdate(ts, language)
    for line in report.splitlines():
        if line.strip() and not line.startswith("Updating"):
            print(f"  lupdate: {line.strip()}")
    lrelease(ts, qm_path(language))
    messages = read_ts(ts)
    found = problems(messages)
    done = sum(m.finished for m in messages)
    print(f"{ts.relative_to(ROOT)}: {len(messages)} strings, {done} translated")
    print(f"{qm_path(language).relative_to(ROOT)}: compiled")
    return found


def todo(language: str) -> dict[str, dict[str, str]]:
    """Unfinished strings by context, with lupdate's guess (same text elsewhere) if any."""
    pending: dict[str, dict[str, str]] = {}
    for m in read_ts(ts_path(language)):
        if not m.finished:
            pending.setdefault(m.context, {})[m.source] = m.translation
    return pending


def apply(language: str, filled: dict[str, dict[str, str]]) -> int:
    """Write translations into the ``.ts``; an empty value leaves the entry unfinished."""
    ts = ts_path(language)
    tree = ET.parse(ts)
    changed = 0
    for context in tree.getroot().iter("context"):
        wanted = filled.get(context.findtext("name") or "", {})
        for message in context.iter("message"):
            text = wanted.get(_text(message.find("source")), "")
            if not text:
                continue
            translation = message.find("translation")
            if translation is None:
                translation = ET.SubElement(message, "translation")
            for form in list(translation):
                translation.remove(form)
            translation.attrib.pop("type", None)
            if message.get("numerus") == "yes":  # one <numerusform> per line
                translation.text = None
                for line in text.split("\n"):
                    ET.SubElement(translation, "numerusform").text = line
            else:
                translation.text = text
            changed += 1
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("update", "todo", "apply", "check"), nargs="?")
    parser.add_argument("file", nargs="?", help="for apply: the JSON that todo printed, filled in")
    parser.add_argument("--language", default=LANGUAGES[0], choices=LANGUAGES)
    args = parser.parse_args(argv)
    command = args.command or "update"
    if command == "todo":
        json.dump(todo(args.language), sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    if command == "apply":
        if not args.file:
            parser.error("apply needs the JSON file")
        filled = json.loads(Path(args.file).read_text(encoding="utf-8"))
        print(f"applied {apply(args.language, filled)} translation(s)")
        command = "update"  # normalise the file through lupdate and compile
    if command == "check":
        messages = read_ts(ts_path(args.language))
        found = problems(messages)
        print(f"{ts_path(args.language).name}: {len(messages)} strings, {len(found)} to fix")
    else:
        found = update(args.language)
    for problem in found:
        print(f"  todo: {problem}")
    if found:
        print(f"{len(found)} string(s) need a translation: `{Path(__file__).name} todo`")
    return 1 if found and command == "check" else 0


if __name__ == "__main__":
    sys.exit(main())

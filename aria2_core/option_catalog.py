"""The option names an aria2c binary knows, and checking extra options against them.

aria2c only *warns* about an unknown option in a conf file and then runs
without it, so a typo in Settings ("max-conection-per-server") would be
silently lost. The names are read from the binary itself
(``aria2c --help=#all``), because builds differ (no BitTorrent, no
SFTP, …), and cached per binary path, size and mtime in the app home, so
the help text is read once per aria2c, not once per dialog. Reading it
blocks for a moment: callers run :func:`known_options` off the GUI thread.

Extra options are typed one ``key=value`` per line; :func:`check_extra_lines`
turns that text into options plus one :class:`OptionProblem` per bad line.
The UI words the problems (this layer has no ``tr()``).
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .config import FORBIDDEN_OPTIONS, write_private_file
from .errors import AriaTrayError
from .helper_runs import HelperRuns

log = logging.getLogger("aria_tray.options")

HELP_TIMEOUT_S = 10.0
_CACHE_VERSION = 1
# " -d, --dir=DIR   The directory…" or " --all-proxy=PROXY …": only option
# lines start at column 1; the "--help=#http" inside descriptions are deeper.
_OPTION_LINE = re.compile(r"^ (?:-[A-Za-z0-9], )?--([a-z0-9][a-z0-9-]*)")

# Problem kinds, in the order a line is checked.
PROBLEM_SYNTAX = "syntax"  # not key=value
PROBLEM_FORBIDDEN = "forbidden"  # Aria Tray owns it (FORBIDDEN_OPTIONS)
PROBLEM_UNKNOWN = "unknown"  # the binary does not know it
PROBLEM_RESERVED = "reserved"  # Settings has its own field for it
PROBLEM_DUPLICATE = "duplicate"  # set twice


class OptionCatalogError(AriaTrayError):
    """The aria2c binary could not tell which options it knows."""


@dataclass(frozen=True)
class OptionProblem:
    """One bad line of the extra options text (``line`` counts from 1)."""

    line: int
    kind: str
    key: str
    text: str


@dataclass
class ExtraOptionsCheck:
    options: dict[str, str] = field(default_factory=dict)
    problems: list[OptionProblem] = field(default_factory=list)


def parse_help(text: str) -> frozenset[str]:
    """The ``--option-name`` tokens of ``aria2c --help=#all`` output."""
    return frozenset(m.group(1) for line in text.splitlines() if (m := _OPTION_LINE.match(line)))


def read_help(
    binary: Path, env: Mapping[str, str] | None = None, runs: HelperRuns | None = None
) -> frozenset[str]:
    """Run ``aria2c --help=#all`` (blocking, bounded) and parse its option names.

    ``runs`` lets the caller kill the run when it shuts down (see :mod:`helper_runs`).
    """
    try:
        done = (runs or HelperRuns()).run(
            [str(binary), "--no-conf", "--help=#all"], timeout=HELP_TIMEOUT_S, env=env
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise OptionCatalogError(f"Could not run {binary} --help: {exc}") from exc
    names = parse_help(done.stdout.decode("utf-8", "replace"))
    if len(names) < 20:  # not an aria2c, or a broken one
        raise OptionCatalogError(f"{binary} did not list aria2c's options (is it aria2c?)")
    return names


def _fingerprint(binary: Path) -> dict[str, object]:
    stat = binary.stat()
    return {"path": str(binary.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def known_options(
    binary: Path,
    cache_file: Path,
    env: Mapping[str, str] | None = None,
    runs: HelperRuns | None = None,
) -> frozenset[str]:
    """The option names ``binary`` knows, from the cache when the binary is unchanged."""
    try:
        fingerprint = _fingerprint(binary)
    except OSError as exc:
        raise OptionCatalogError(f"Cannot read {binary}: {exc}") from exc
    key = str(fingerprint["path"])
    cache: dict[str, object] = {}
    try:
        loaded = json.loads(cache_file.read_text(encoding="utf-8"))
        if isinstance(loaded, dict) and loaded.get("version") == _CACHE_VERSION:
            cache = loaded
    except (OSError, ValueError, RecursionError):
        pass  # no cache, or a broken one: read the binary again
    entries = cache.get("binaries")
    entries = entries if isinstance(entries, dict) else {}
    entry = entries.get(key)
    if (
        isinstance(entry, dict)
        and entry.get("size") == fingerprint["size"]
        and entry.get("mtime_ns") == fingerprint["mtime_ns"]
        and isinstance(entry.get("options"), list)
    ):
        return frozenset(str(name) for name in entry["options"])
    names = read_help(binary, env, runs)
    entries[key] = {**fingerprint, "options": sorted(names)}
    try:
        text = json.dumps({"version": _CACHE_VERSION, "binaries": entries}, indent=1)
        write_private_file(cache_file, text + "\n")
    except OSError as exc:  # a cache that cannot be written is only slower
        log.warning("could not cache aria2c's option list in %s: %s", cache_file, exc)
    return names


def check_extra_lines(
    text: str, known: Collection[str] | None = None, reserved: Collection[str] = ()
) -> ExtraOptionsCheck:
    """Split ``key=value`` lines into options and one problem per bad line.

    Blank lines and ``#`` comments are skipped; keys may carry leading
    dashes. Without ``known`` (no binary at hand, e.g. at start-up from the
    saved settings) only the shape, forbidden and duplicate names are
    checked. ``reserved`` names are those Settings shows as fields of their
    own, so they are set there, never twice.
    """
    check = ExtraOptionsCheck()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip().lstrip("-"), value.strip()
        kind = ""
        if not sep or not key or any(c.isspace() for c in key):
            kind = PROBLEM_SYNTAX
        elif key in FORBIDDEN_OPTIONS:
            kind = PROBLEM_FORBIDDEN
        elif known is not None and key not in known:
            kind = PROBLEM_UNKNOWN
        elif key in reserved:
            kind = PROBLEM_RESERVED
        elif key in check.options:
            kind = PROBLEM_DUPLICATE
        if kind:
            check.problems.append(OptionProblem(number, kind, key, line))
        else:
            check.options[key] = value
    return check


def format_extra_lines(options: Mapping[str, str]) -> str:
    """The inverse of :func:`parse_extra_lines`: one ``key=value`` per line."""
    return "".join(f"{key}={value}\n" for key, value in options.items())


def default_cache_file(engine_dir: Path) -> Path:
    return engine_dir / "aria2c-options.json"

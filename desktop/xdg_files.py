"""The two freedesktop.org file formats that desktop integration writes.

* **Desktop entries** (``.desktop``): the ``Exec`` key has its own quoting
  rules, and the whole value is then escaped once more as a string.
* **``mimeapps.list``**: the per-user default applications. It is the user's
  file, shared with every other program, so it is edited line by line:
  comments, other groups, other keys and their order all survive, and only
  the entries naming our desktop file are touched.

Pure text in, text out: no Qt, no file system, so every rule is unit-tested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

DEFAULTS_GROUP = "Default Applications"
ADDED_GROUP = "Added Associations"

# Desktop Entry Specification, "The Exec key": an argument holding any of
# these must be quoted; inside quotes, " ` $ and \ take a backslash.
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_QUOTED_ESCAPES = re.compile(r'([`"$\\])')


def quote_exec_arg(arg: str) -> str:
    """One ``Exec`` argument, quoted only when it must be.

    Plain paths stay unquoted on purpose: xdg-open's generic fallback splits
    ``Exec`` on spaces and does not understand quotes at all.
    """
    if "\n" in arg or "\r" in arg:
        raise ValueError(f"a desktop entry cannot carry a line break: {arg!r}")
    if arg and not any(ch in _RESERVED for ch in arg):
        return arg.replace("%", "%%")
    return '"' + _QUOTED_ESCAPES.sub(r"\\\1", arg).replace("%", "%%") + '"'


def exec_line(command: list[str], field_code: str = "") -> str:
    """The ``Exec`` value for ``command`` (+ a field code such as ``%U``)."""
    parts = [quote_exec_arg(arg) for arg in command]
    if field_code:
        parts.append(field_code)
    return " ".join(parts)


def escape_string(value: str) -> str:
    r"""Escape a value of type *string* (the ``\\`` rule applies to ``Exec`` too)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t")


def escape_list(values: Iterable[str]) -> str:
    r"""A ``;``-separated list value; ``;`` inside an item becomes ``\;``."""
    return "".join(escape_string(v).replace(";", "\\;") + ";" for v in values)


def unescape_list(value: str) -> list[str]:
    """Inverse of :func:`escape_list`."""
    items, current, i = [], [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            current.append({"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
            i += 2
            continue
        if ch == ";":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if current:
        items.append("".join(current))
    return [item for item in items if item]


def desktop_entry(keys: Mapping[str, str]) -> str:
    """A ``[Desktop Entry]`` group from already-escaped values, in the given order."""
    lines = ["[Desktop Entry]", *(f"{key}={value}" for key, value in keys.items())]
    return "\n".join(lines) + "\n"


def read_desktop_key(text: str, key: str) -> str | None:
    """The raw value of ``key`` in the ``[Desktop Entry]`` group, if present."""
    group = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            group = stripped[1:-1]
        elif group == "Desktop Entry" and "=" in stripped and not stripped.startswith("#"):
            name, _, value = stripped.partition("=")
            if name.strip() == key:
                return value.strip()
    return None


# -- mimeapps.list ----------------------------------------------------------


def _group_of(line: str) -> str | None:
    stripped = line.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        return stripped[1:-1]
    return None


def set_defaults(text: str, desktop_id: str, mime_types: Iterable[str]) -> str:
    """Make ``desktop_id`` the default for each MIME type, keeping everything else."""
    wanted = list(dict.fromkeys(mime_types))
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _group_of(line) == DEFAULTS_GROUP), None)
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        if lines:
            lines.append("")
        lines.append(f"[{DEFAULTS_GROUP}]")
        lines.extend(f"{mime}={desktop_id};" for mime in wanted)
        return "\n".join(lines) + "\n"
    end = next(
        (i for i in range(start + 1, len(lines)) if _group_of(lines[i]) is not None), len(lines)
    )
    done = set()
    for i in range(start + 1, end):
        key, sep, _ = lines[i].partition("=")
        if sep and key.strip() in wanted:
            lines[i] = f"{key.strip()}={desktop_id};"
            done.add(key.strip())
    insert_at = end
    while insert_at > start + 1 and not lines[insert_at - 1].strip():
        insert_at -= 1
    missing = [f"{mime}={desktop_id};" for mime in wanted if mime not in done]
    lines[insert_at:insert_at] = missing
    return "\n".join(lines) + "\n"


def remove_app(text: str, desktop_id: str) -> str:
    """Drop ``desktop_id`` from the default and added associations.

    A key left with no application is removed; other applications named in
    the same key stay, in their order.
    """
    out: list[str] = []
    group = None
    for line in text.splitlines():
        name = _group_of(line)
        if name is not None:
            group = name
            out.append(line)
            continue
        key, sep, value = line.partition("=")
        if group in (DEFAULTS_GROUP, ADDED_GROUP) and sep and not line.lstrip().startswith("#"):
            apps = [a.strip() for a in value.split(";") if a.strip()]
            if desktop_id in apps:
                kept = [a for a in apps if a != desktop_id]
                if kept:
                    out.append(f"{key}={';'.join(kept)};")
                continue
        out.append(line)
    return "\n".join(out) + "\n" if out else ""


def defaults_of(text: str) -> dict[str, str]:
    """``{mime: first desktop id}`` from the default applications group."""
    result: dict[str, str] = {}
    group = None
    for line in text.splitlines():
        name = _group_of(line)
        if name is not None:
            group = name
            continue
        key, sep, value = line.partition("=")
        if group == DEFAULTS_GROUP and sep and not line.lstrip().startswith("#"):
            apps = [a.strip() for a in value.split(";") if a.strip()]
            if apps:
                result.setdefault(key.strip(), apps[0])
    return result


def has_entries(text: str) -> bool:
    """False when only blank lines, comments and empty group headers are left."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and _group_of(stripped) is None:
            return True
    return False

"""Per-download options of the add dialog, checked and spelled the way aria2 wants.

The dialog's fields become one options dict for every link of the batch
(``aria2.addUri`` / ``addTorrent`` / ``addMetalink`` take the same one):
``dir``, ``out``, ``max-connection-per-server``, ``split``, ``referer``,
``user-agent``, ``header`` (a list: the cookie becomes ``Cookie: …``),
``checksum`` and ``pause``. Mistakes are caught here, before anything is
journaled, so the user fixes them in the open dialog; aria2 would only
fail the download later, one error per link.

No Qt here: each :class:`FieldProblem` names a field and a kind, and the
UI words it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

# Digest lengths in hex characters; aria2 accepts these hash types for --checksum.
CHECKSUM_HEX_LENGTHS = {
    "md5": 32,
    "sha-1": 40,
    "sha-224": 56,
    "sha-256": 64,
    "sha-384": 96,
    "sha-512": 128,
    "adler32": 8,
}
_TYPE_ALIASES = {"sha1": "sha-1", "sha224": "sha-224", "sha256": "sha-256", "sha384": "sha-384",
                 "sha512": "sha-512", "adler-32": "adler32"}  # fmt: skip
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 token

# FieldProblem kinds
BAD_CHECKSUM_FORMAT = "checksum-format"  # not TYPE=DIGEST
BAD_CHECKSUM_TYPE = "checksum-type"
BAD_CHECKSUM_DIGEST = "checksum-digest"  # not hex, or the wrong length for its type
BAD_HEADER = "header"
BAD_FILE_NAME = "file-name"  # a path, not a name
FILE_NAME_NEEDS_ONE_LINK = "file-name-many"
CHECKSUM_NEEDS_ONE_LINK = "checksum-many"
BAD_FOLDER = "folder"  # not absolute


@dataclass(frozen=True)
class FieldProblem:
    field: str
    kind: str
    detail: str = ""


@dataclass
class AddFields:
    """What the user filled in; empty strings and zeros mean "aria2's default"."""

    folder: str = ""
    file_name: str = ""
    connections: int = 0
    split: int = 0
    referer: str = ""
    user_agent: str = ""
    cookie: str = ""
    headers: list[str] = field(default_factory=list)
    checksum: str = ""
    paused: bool = False


def normalize_checksum(text: str) -> str:
    """``SHA256 = ABC…`` -> ``sha-256=abc…``; raises ``ValueError(kind)`` when wrong."""
    kind, sep, digest = text.strip().partition("=")
    kind, digest = kind.strip().lower(), digest.strip()
    if not sep or not kind or not digest:
        raise ValueError(BAD_CHECKSUM_FORMAT)
    kind = _TYPE_ALIASES.get(kind, kind)
    if kind not in CHECKSUM_HEX_LENGTHS:
        raise ValueError(BAD_CHECKSUM_TYPE)
    if not _HEX.match(digest) or len(digest) != CHECKSUM_HEX_LENGTHS[kind]:
        raise ValueError(BAD_CHECKSUM_DIGEST)
    return f"{kind}={digest.lower()}"


def header_ok(line: str) -> bool:
    """``Name: value`` with a token for a name and the value on the same line."""
    name, sep, _value = line.partition(":")
    return bool(sep) and bool(_HEADER_NAME.match(name.strip())) and "\n" not in line


def file_name_ok(name: str) -> bool:
    """A plain file name: no folder part, not ``.``/``..``, no NUL."""
    return name not in (".", "..") and not any(c in name for c in "/\\\x00")


def build_options(
    fields: AddFields, link_count: int
) -> tuple[dict[str, str | list[str]], list[FieldProblem]]:
    """aria2 options for the batch, and what is wrong with the fields (if anything)."""
    options: dict[str, str | list[str]] = {}
    problems: list[FieldProblem] = []
    folder = os.path.expanduser(fields.folder.strip())
    if folder:
        if not os.path.isabs(folder):
            problems.append(FieldProblem("folder", BAD_FOLDER, folder))
        options["dir"] = folder
    name = fields.file_name.strip()
    if name:
        if not file_name_ok(name):
            problems.append(FieldProblem("file_name", BAD_FILE_NAME, name))
        elif link_count > 1:
            problems.append(FieldProblem("file_name", FILE_NAME_NEEDS_ONE_LINK, name))
        else:
            options["out"] = name
    if fields.connections > 0:
        options["max-connection-per-server"] = str(fields.connections)
    if fields.split > 0:
        options["split"] = str(fields.split)
    if fields.referer.strip():
        options["referer"] = fields.referer.strip()
    if fields.user_agent.strip():
        options["user-agent"] = fields.user_agent.strip()
    headers: list[str] = []
    if fields.cookie.strip():
        headers.append(f"Cookie: {fields.cookie.strip()}")
    for line in fields.headers:
        line = line.strip()
        if not line:
            continue
        if header_ok(line):
            headers.append(line)
        else:
            problems.append(FieldProblem("headers", BAD_HEADER, line))
    if headers:
        options["header"] = headers
    if fields.checksum.strip():
        try:
            options["checksum"] = normalize_checksum(fields.checksum)
        except ValueError as exc:
            problems.append(FieldProblem("checksum", str(exc), fields.checksum.strip()))
        else:
            if link_count > 1:  # one digest cannot match several files
                problems.append(FieldProblem("checksum", CHECKSUM_NEEDS_ONE_LINK))
    if fields.paused:
        options["pause"] = "true"
    return options, problems

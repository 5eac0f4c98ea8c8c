"""Decode a big JSON answer in pieces, so other threads get the GIL in between.

``json.loads`` is C code: it holds the GIL until the whole document is
decoded. A refresh of thousands of downloads is 1–4 MB of JSON, 10–60 ms
of decoding on the RPC worker, and the GUI thread could not run meanwhile:
that was the longest GUI stall while a 1,000-link drop went in (issue 11).
:func:`loads_in_pieces` walks the outer containers in Python and hands each
element below ``depth`` levels to the C decoder, a few microseconds each;
the interpreter may switch threads between any two of them. Small
documents are decoded in one call, as before.
"""

from __future__ import annotations

import json
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

# Below this many characters one json.loads is short enough (well under 1 ms).
SMALL = 64 * 1024
_DECODER = json.JSONDecoder()
_SPACE = frozenset(" \t\n\r")


def loads_in_pieces(text: str, depth: int = 4) -> Any:
    """``json.loads(text)``, decoding the outer ``depth`` levels one element at a time.

    Same result and same errors as ``json.loads``: on any doubt the text is
    decoded again in one call, whose error names the place.
    """
    if len(text) < SMALL:
        return json.loads(text)
    try:
        value, end = _value(text, _skip(text, 0), depth)
        if _skip(text, end) != len(text):
            raise ValueError("extra data")
    except (ValueError, IndexError):
        return json.loads(text)
    return value


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _SPACE:
        at += 1
    return at


def _value(text: str, at: int, depth: int) -> tuple[Any, int]:
    """The value starting at ``at`` (not a space) and where it ends."""
    opener = text[at]
    if depth <= 0 or opener not in "[{":
        return _DECODER.raw_decode(text, at)
    at = _skip(text, at + 1)
    if opener == "[":
        items: list[Any] = []
        if text[at] == "]":
            return items, at + 1
        while True:
            item, at = _value(text, at, depth - 1)
            items.append(item)
            at = _skip(text, at)
            if text[at] == "]":
                return items, at + 1
            if text[at] != ",":
                raise ValueError("expected , or ]")
            at = _skip(text, at + 1)
    obj: dict[str, Any] = {}
    if text[at] == "}":
        return obj, at + 1
    while True:
        if text[at] != '"':
            raise ValueError("expected a key")
        key, at = scanstring(text, at + 1)
        at = _skip(text, at)
        if text[at] != ":":
            raise ValueError("expected :")
        obj[key], at = _value(text, _skip(text, at + 1), depth - 1)
        at = _skip(text, at)
        if text[at] == "}":
            return obj, at + 1
        if text[at] != ",":
            raise ValueError("expected , or }")
        at = _skip(text, at + 1)

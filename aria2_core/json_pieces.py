"""Decode and encode big JSON in pieces, so other threads get the GIL in between.

``json.loads`` is C code: it holds the GIL until the whole document is
decoded. A refresh of thousands of downloads is 1–4 MB of JSON, 10–60 ms
of decoding on the RPC worker, and the GUI thread could not run meanwhile:
that was the longest GUI stall while a 1,000-link drop went in (issue 11).
:func:`loads_in_pieces` walks the outer containers in Python and hands each
element below ``depth`` levels to the C decoder, a few microseconds each;
the interpreter may switch threads between any two of them. Small
documents are decoded in one call, as before.

**Unchanged rows cost nothing.** A refresh asks aria2 for every download,
every second, and most of them (the queue, the finished) read the same as
last time: decoding 6,000 rows and turning them into ``DownloadInfo`` was
~130 ms of Python on the RPC worker per refresh, competing with the GUI
thread for the GIL and the CPU. A :class:`LeafMemo` remembers the text of
each object at the leaf depth and what it became; the next decode checks
whether the text at hand starts with the text expected there (one
``startswith``: aria2 keeps its order), and reuses the converted object
when it does. Only new or changed rows are decoded and converted.

``json.dumps`` is the same in reverse: the ledger of 8,000 downloads is a
1 MB document that the RPC worker wrote in one C call after each drop,
10-20 ms with the GIL held (measured with ``perf`` in the drop benchmark).
:func:`dumps_in_pieces` encodes each element below ``depth`` levels on its
own and joins the pieces: the same text, the GIL free between pieces.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

# Below this many characters one json.loads is short enough (well under 1 ms).
SMALL = 64 * 1024
_DECODER = json.JSONDecoder()
_SPACE = frozenset(" \t\n\r")
# What the app writes: ASCII, no spaces (journal, history, ledger).
_ENCODE = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


class LeafMemo:
    """Objects at the leaf depth of one kind of document, converted once per distinct text.

    ``convert`` turns a decoded leaf object (a dict) into what the caller
    keeps (a row); the memo hands back the same converted object for as
    long as the leaf's text stays the same. It holds last round's leaf
    texts (about the size of the document), so use one memo per kind of
    answer, on one thread.
    """

    def __init__(self, convert: Callable[[dict[str, Any]], Any]) -> None:
        self._convert = convert
        self._known: dict[str, tuple[int, Any]] = {}  # text -> (position last round, value)
        self._order: list[str] = []  # last round's texts, in order
        self._round: dict[str, tuple[int, Any]] = {}
        self._round_order: list[str] = []
        self._next = 0  # position in _order of the text expected next
        self.converted = 0  # leaves converted in the last round (the rest were reused)

    def _begin(self) -> None:
        self._round, self._round_order, self._next, self.converted = {}, [], 0, 0

    def _leaf(self, text: str, at: int) -> tuple[Any, int]:
        """The converted object starting at ``at`` (a ``{``) and where it ends."""
        order, n = self._order, self._next
        if n < len(order) and text.startswith(order[n], at):
            # A complete JSON object ends where its text ends: no need to scan it.
            key = order[n]
            value = self._known[key][1]
            self._next = n + 1
        else:
            raw, end = _DECODER.raw_decode(text, at)
            key = text[at:end]
            seen = self._known.get(key)
            if seen is None:  # new or changed: still expect order[n] next
                value = self._convert(raw)
                self.converted += 1
            else:  # moved (the queue's head left, a row was moved): expect its successor
                self._next, value = seen[0] + 1, seen[1]
        self._round[key] = (len(self._round_order), value)
        self._round_order.append(key)
        return value, at + len(key)

    def _commit(self) -> None:
        """This round's leaves become the ones expected next time."""
        old, self._known, self._order = self._known, self._round, self._round_order
        self._round, self._round_order = {}, []
        # One at a time, not in one dealloc of thousands of rows with the GIL held.
        for key in [key for key in old if key not in self._known]:
            del old[key]


def loads_in_pieces(text: str, depth: int = 4, memo: LeafMemo | None = None) -> Any:
    """``json.loads(text)``, decoding the outer ``depth`` levels one element at a time.

    Same result and same errors as ``json.loads``: on any doubt the text is
    decoded again in one call, whose error names the place. With ``memo``,
    each object ``depth`` levels down comes back converted (see
    :class:`LeafMemo`), except in a small document or that fallback, where
    it stays a dict: the caller converts what is still a dict.
    """
    if len(text) < SMALL:
        return json.loads(text)
    if memo is not None:
        memo._begin()
    try:
        value, end = _value(text, _skip(text, 0), depth, memo)
        if _skip(text, end) != len(text):
            raise ValueError("extra data")
    except (ValueError, IndexError):
        return json.loads(text)
    if memo is not None:
        memo._commit()
    return value


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _SPACE:
        at += 1
    return at


def _value(text: str, at: int, depth: int, memo: LeafMemo | None = None) -> tuple[Any, int]:
    """The value starting at ``at`` (not a space) and where it ends."""
    opener = text[at]
    if depth <= 0 or opener not in "[{":
        if memo is not None and depth == 0 and opener == "{":
            return memo._leaf(text, at)
        return _DECODER.raw_decode(text, at)
    at = _skip(text, at + 1)
    if opener == "[":
        items: list[Any] = []
        if text[at] == "]":
            return items, at + 1
        while True:
            item, at = _value(text, at, depth - 1, memo)
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
        obj[key], at = _value(text, _skip(text, at + 1), depth - 1, memo)
        at = _skip(text, at)
        if text[at] == "}":
            return obj, at + 1
        if text[at] != ",":
            raise ValueError("expected , or }")
        at = _skip(text, at + 1)


def dumps_in_pieces(value: Any, depth: int = 2) -> str:
    """``json.dumps(value, ensure_ascii=True, separators=(",", ":"))``, built piece by piece.

    The outer ``depth`` levels of lists and dicts are walked in Python; each
    element below them is one call of the C encoder.
    """
    return "".join(encode_pieces(value, depth))


def encode_pieces(value: Any, depth: int = 2) -> Iterator[str]:
    """The pieces :func:`dumps_in_pieces` joins: brackets, commas, keys, encoded elements."""
    if depth <= 0 or not value or not isinstance(value, dict | list | tuple):
        yield _ENCODE(value)
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            yield _ENCODE(value)  # json's own rules for other keys
            return
        yield "{"
        for n, (key, item) in enumerate(value.items()):
            yield f",{_ENCODE(key)}:" if n else f"{_ENCODE(key)}:"
            yield from encode_pieces(item, depth - 1)
        yield "}"
    else:
        yield "["
        for n, item in enumerate(value):
            if n:
                yield ","
            yield from encode_pieces(item, depth - 1)
        yield "]"

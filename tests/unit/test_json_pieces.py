"""JSON decoded in pieces (big RPC answers) is exactly what ``json.loads`` gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aria2_core import json_pieces
from aria2_core.json_pieces import loads_in_pieces


def _row(n: int) -> dict[str, Any]:
    return {
        "gid": f"{n:016x}",
        "status": "waiting",
        "name": f'fïle-{n} "quoted" \\ back\u2028slash',
        "files": [{"index": "1", "uris": [{"uri": f"http://h/{n}", "status": "used"}]}],
        "numbers": [1, -2.5e3, True, False, None],
    }


@pytest.mark.parametrize("spacing", [(",", ":"), (", ", ": ")])
@pytest.mark.parametrize("depth", [0, 1, 2, 4, 9])
def test_the_same_value_as_json_loads(spacing: tuple[str, str], depth: int) -> None:
    doc = {
        "id": 7,
        "jsonrpc": "2.0",
        "result": [[[_row(n) for n in range(600)]], [[]], [{}], {"code": 1, "message": "x"}],
    }
    text = json.dumps(doc, separators=spacing, indent=None if spacing[0] == "," else 1)
    assert len(text) > json_pieces.SMALL
    assert loads_in_pieces(" \n" + text + "\n ", depth) == json.loads(text)


@pytest.mark.parametrize(
    "broken",
    [
        '{"result": [1, 2,, 3]}',
        '{"result": [1, 2] "x"}',
        '{"result": [1, 2]} trailing',
        '{"result": [1, 2',
        "{result: []}",
        "",
    ],
)
def test_broken_json_raises_like_json_loads(broken: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_pieces, "SMALL", 0)  # take the piecewise path even for short text
    with pytest.raises(ValueError) as ours:
        loads_in_pieces(broken)
    with pytest.raises(ValueError) as theirs:
        json.loads(broken)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("depth", [0, 1, 2, 3, 9])
def test_encoded_in_pieces_is_the_text_json_dumps_writes(depth: int) -> None:
    doc: dict[Any, Any] = {
        "version": 2,
        "origins": [_row(n) for n in range(300)],
        "empty": [[], {}, ""],
        "tuple": (1, "two", (3.5, None)),
        "odd keys": {1: "int key", "x": [float("inf")]},
    }
    expected = json.dumps(doc, ensure_ascii=True, separators=(",", ":"))
    assert json_pieces.dumps_in_pieces(doc, depth) == expected


def test_a_big_document_is_encoded_one_record_at_a_time() -> None:
    """Each piece is one C call holding the GIL: none may be the whole document.

    The ledger of 8,000 downloads written in one ``json.dumps`` held the
    GIL 10-20 ms after each 1,000-link drop (issue 11 item 4).
    """
    body = {"version": 2, "origins": [_row(n) for n in range(2000)]}
    pieces = list(json_pieces.encode_pieces(body))
    assert "".join(pieces) == json.dumps(body, ensure_ascii=True, separators=(",", ":"))
    assert max(map(len, pieces)) <= max(len(json.dumps(_row(n))) for n in range(2000))


def _answer(rows: list[dict[str, Any]]) -> str:
    """A refresh's multicall answer: active, waiting, stopped, and one failed call."""
    doc = {
        "id": 3,
        "jsonrpc": "2.0",
        "result": [[rows[:2]], [rows[2:]], [[]], {"code": 1, "message": "x"}],
    }
    return json.dumps(doc, separators=(",", ":"))


class Built:
    """What a memo's ``convert`` makes: counts the builds."""

    count = 0

    def __init__(self, data: dict[str, Any]) -> None:
        Built.count += 1
        self.data = data


def _leaves(value: Any) -> list[Any]:
    return [*value["result"][0][0], *value["result"][1][0]]


def test_a_memo_builds_each_row_once_while_its_text_stays_the_same() -> None:
    rows = [_row(n) for n in range(400)]
    memo = json_pieces.LeafMemo(Built)
    first = loads_in_pieces(_answer(rows), memo=memo)
    assert [b.data for b in _leaves(first)] == rows
    assert memo.converted == 400
    assert first["result"][3] == {"code": 1, "message": "x"}  # not a leaf: left alone

    again = loads_in_pieces(_answer(rows), memo=memo)
    assert memo.converted == 0
    assert all(a is b for a, b in zip(_leaves(again), _leaves(first), strict=True))

    # The queue's head left, one row moved to the front, one changed, one is new.
    changed = dict(rows[200], status="paused")
    shuffled = [rows[350], *rows[1:200], changed, *rows[201:350], *rows[351:], _row(9999)]
    third = loads_in_pieces(_answer(shuffled), memo=memo)
    assert [b.data for b in _leaves(third)] == shuffled
    assert memo.converted == 2  # the changed row and the new one
    by_gid = {b.data["gid"]: b for b in _leaves(first)}
    for built in _leaves(third):
        if built.data["gid"] not in (changed["gid"], _row(9999)["gid"]):
            assert built is by_gid[built.data["gid"]]


def test_a_memo_leaves_dicts_where_the_text_is_small_or_broken() -> None:
    memo = json_pieces.LeafMemo(Built)
    small = loads_in_pieces(_answer([_row(1), _row(2), _row(3)]), memo=memo)
    assert _leaves(small) == [_row(1), _row(2), _row(3)]  # one json.loads: plain dicts
    rows = [_row(n) for n in range(400)]
    loads_in_pieces(_answer(rows), memo=memo)
    broken = _answer(rows).replace('"status":"waiting"', '"status":waiting', 1)
    with pytest.raises(ValueError):
        loads_in_pieces(broken, memo=memo)
    loads_in_pieces(_answer(rows), memo=memo)
    assert memo.converted == 0  # the failed round did not replace what the memo knew

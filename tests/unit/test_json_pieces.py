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

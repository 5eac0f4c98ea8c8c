"""IPC protocol version 2: ``open`` items with per-link options, checked as strictly as v1."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aria2_core.ipc_protocol import (
    MAX_HEADERS,
    FrameError,
    decode_reply,
    decode_request,
    encode_reply,
    encode_request,
)

SECRET = "session=s3cr3t-cookie-value"


def v2_item(**options: Any) -> dict[str, Any]:
    return {"uri": "https://example.org/a.iso", "options": options}


def frame(version: int, items: list[Any]) -> bytes:
    obj = {"v": version, "id": "abc", "cmd": "open", "args": {"items": items, "cwd": ""}}
    return json.dumps(obj).encode() + b"\n"


def test_items_with_options_travel_as_version_2() -> None:
    item = v2_item(
        header=[f"Cookie: {SECRET}"],
        out="a.iso",
        dir="/home/u/Downloads",
        referer="https://example.org/page",
        **{"user-agent": "Mozilla/5.0"},
    )
    request = decode_request(encode_request("open", {"items": ["magnet:?xt=a", item], "cwd": ""}))
    assert request.v == 2
    assert request.args["items"] == ["magnet:?xt=a", item]


def test_version_1_is_still_accepted_and_replies_answer_in_the_request_version() -> None:
    request = decode_request(frame(1, ["https://example.org/a"]))
    assert request.v == 1
    reply = encode_reply("abc", result={"accepted": 1}, version=request.v)
    assert json.loads(reply)["v"] == 1
    assert json.loads(encode_reply("abc", error="no", version=2))["v"] == 2
    assert decode_reply(encode_reply("abc", result={}, version=2)).ok


def test_version_1_refuses_option_objects() -> None:
    with pytest.raises(FrameError, match=r"item 0 is dict, not a string"):
        decode_request(frame(1, [v2_item()]))


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"uri": "https://e.org/a"}, "exactly the fields uri and options"),
        ({"uri": "https://e.org/a", "options": {}, "x": 1}, "exactly the fields uri and options"),
        ({"uri": 5, "options": {}}, "'uri' must be a string"),
        ({"uri": "", "options": {}}, "'uri' is an empty string"),
        ({"uri": "https://e.org/a", "options": []}, "'options' must be a JSON object"),
        (v2_item(continue_="true"), "unknown option(s) continue_"),
        (v2_item(**{"all-proxy": "http://evil:1"}), "unknown option(s) all-proxy"),
        (v2_item(out="../x"), "plain file name"),
        (v2_item(out="a/b"), "plain file name"),
        (v2_item(out="x" * 300), "over the 255-byte limit"),
        (v2_item(dir="relative/folder"), "absolute folder"),
        (v2_item(dir=5), "option 'dir' must be a string"),
        (v2_item(header="Cookie: a"), "must be a list"),
        (v2_item(header=["X: y"] * (MAX_HEADERS + 1)), "must be a list"),
        (v2_item(header=[f"Cookie {SECRET}"]), "header 0 is not 'Name: value'"),
        (v2_item(header=[f"Cookie: {SECRET}\r\nX-Evil: 1"]), "header 0 contains a control"),
        (v2_item(header=[f"Cookie: {SECRET}" + "x" * 20_000]), "over the 16384-byte limit"),
        (v2_item(referer="a\nb"), "contains a control character"),
    ],
)
def test_bad_items_are_refused_without_quoting_values(item: dict[str, Any], reason: str) -> None:
    with pytest.raises(FrameError) as info:
        decode_request(frame(2, [item]))
    assert reason in info.value.reason
    assert info.value.request_id == "abc"
    assert "s3cr3t" not in info.value.reason
    with pytest.raises(FrameError):  # the client checks the same before sending
        encode_request("open", {"items": [item], "cwd": ""})

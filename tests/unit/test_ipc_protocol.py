"""The IPC wire format: what is accepted, and the precise reason for what is not."""

from __future__ import annotations

import json

import pytest

from aria2_core.errors import IpcError
from aria2_core.ipc_protocol import (
    MAX_FRAME_BYTES,
    MAX_ITEM_BYTES,
    MAX_ITEMS,
    FrameError,
    Reply,
    Request,
    decode_reply,
    decode_request,
    encode_reply,
    encode_request,
)


def frame(obj: object) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def request_obj(**overrides: object) -> dict[str, object]:
    obj: dict[str, object] = {"v": 1, "id": "abc", "cmd": "status", "args": {}}
    obj.update(overrides)
    return obj


@pytest.mark.parametrize(
    ("cmd", "args"),
    [
        ("open", {"items": ["https://example.org/a.iso", "magnet:?xt=urn:btih:abc"], "cwd": "/"}),
        ("show", {}),
        ("quit", {}),
        ("status", {}),
    ],
)
def test_request_round_trip(cmd: str, args: dict[str, object]) -> None:
    data = encode_request(cmd, args)
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    request = decode_request(data)
    # Plain requests go out as version 1, so an older primary still reads them.
    assert request == Request(cmd=cmd, args=args, id=request.id, v=1)
    assert len(request.id) == 32


def test_request_id_is_kept_and_frame_decodes_without_newline() -> None:
    data = encode_request("show", {}, request_id="fixed")
    assert decode_request(data.rstrip(b"\n")).id == "fixed"


def test_non_utf8_file_names_survive() -> None:
    """A file name Python holds with surrogateescape must come back identical."""
    odd = b"/home/u/caf\xe9.torrent".decode("utf-8", "surrogateescape")
    request = decode_request(encode_request("open", {"items": [odd, "ü"], "cwd": "/"}))
    assert request.args["items"] == [odd, "ü"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\n", "empty request"),
        (b"\xff\xfe{}\n", "not valid UTF-8"),
        (b"{nope\n", "not valid JSON"),
        (b"[1, 2]\n", "must be a JSON object, not list"),
        (b'"text"\n', "must be a JSON object, not str"),
        (b'{"v": NaN}\n', "not valid JSON"),
        (b"[" * 100_000 + b"\n", "nested too deeply"),
        (frame({"id": "x", "cmd": "show", "args": {}}), "no protocol version"),
        (frame(request_obj(v=3)), "unsupported protocol version 3"),
        (frame(request_obj(v=True)), "must be an integer"),
        (frame(request_obj(v="1")), "must be an integer"),
        (frame(request_obj(id="")), "'id' must be a non-empty string"),
        (frame(request_obj(id=7)), "'id' must be a non-empty string"),
        (frame(request_obj(id="x" * 65)), "'id' must be a non-empty string"),
        (frame(request_obj(cmd="rm")), "unknown command 'rm'"),
        (frame(request_obj(cmd=3)), "'cmd' must be a string"),
        (frame(request_obj(args=[])), "must be a JSON object"),
        (frame(request_obj(extra=1)), "unexpected request field(s): extra"),
        (frame({"v": 1, "id": "a", "cmd": "show"}), "no 'args'"),
        (frame(request_obj(args={"x": 1})), "unexpected argument(s) for 'status': x"),
        (frame(request_obj(cmd="open", args={"items": []})), "missing argument(s) for 'open'"),
        (frame(request_obj(cmd="open", args={"items": "a", "cwd": ""})), "'items' must be a list"),
        (frame(request_obj(cmd="open", args={"items": [1], "cwd": ""})), "item 0 is int"),
        (
            frame(request_obj(cmd="open", args={"items": ["a", ""], "cwd": ""})),
            "item 1 is an empty",
        ),
        (
            frame(request_obj(cmd="open", args={"items": ["a"], "cwd": None})),
            "'cwd' must be a string",
        ),
        # issue 8: an empty batch used to pass and then raise in the journal
        (frame(request_obj(cmd="open", args={"items": [], "cwd": ""})), "'items' is empty"),
    ],
)
def test_decode_request_rejects_with_reason(data: bytes, reason: str) -> None:
    with pytest.raises(FrameError) as info:
        decode_request(data)
    assert reason in str(info.value)
    assert isinstance(info.value, IpcError)


def test_item_limits() -> None:
    big = "x" * (MAX_ITEM_BYTES + 1)
    with pytest.raises(FrameError, match="item 0 is 65537 bytes"):
        decode_request(frame(request_obj(cmd="open", args={"items": [big], "cwd": ""})))
    # The limit is in UTF-8 bytes, not characters.
    wide = "é" * (MAX_ITEM_BYTES // 2 + 1)
    with pytest.raises(FrameError, match="item 0 is"):
        encode_request("open", {"items": [wide], "cwd": ""})
    exact = "x" * MAX_ITEM_BYTES
    assert decode_request(encode_request("open", {"items": [exact], "cwd": ""})).args["items"]
    many = ["a"] * (MAX_ITEMS + 1)
    with pytest.raises(FrameError, match="more than the limit of 10000"):
        encode_request("open", {"items": many, "cwd": ""})


def test_oversized_frames() -> None:
    items = ["u" * 60_000] * 20  # each item fine, the whole frame too big
    with pytest.raises(FrameError, match="over the 1048576-byte limit"):
        encode_request("open", {"items": items, "cwd": ""})
    with pytest.raises(FrameError, match="over the 1048576-byte limit"):
        decode_request(b" " * (MAX_FRAME_BYTES + 1) + b"\n")


def test_error_carries_request_id_when_readable() -> None:
    with pytest.raises(FrameError) as info:
        decode_request(frame(request_obj(id="r1", cmd="nope")))
    assert info.value.request_id == "r1"
    with pytest.raises(FrameError) as info:
        decode_request(frame(request_obj(id="r2", v=9)))
    assert info.value.request_id == "r2"
    with pytest.raises(FrameError) as info:
        decode_request(b"garbage\n")
    assert info.value.request_id == ""


def test_reply_round_trip() -> None:
    ok = decode_reply(encode_reply("r1", result={"added": 2}))
    assert ok == Reply(id="r1", ok=True, result={"added": 2})
    err = decode_reply(encode_reply("", error="bad frame"))
    assert err == Reply(id="", ok=False, error="bad frame")
    with pytest.raises(ValueError):
        encode_reply("r1")
    with pytest.raises(ValueError):
        encode_reply("r1", result={}, error="x")


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({"v": 3, "id": "a", "ok": True, "result": {}}, "unsupported protocol version 3"),
        ({"v": 1, "id": "a", "ok": 1, "result": {}}, "'ok' must be true or false"),
        ({"v": 1, "id": "a", "ok": True, "result": []}, "'result' must be a JSON object"),
        ({"v": 1, "id": "a", "ok": True}, "fields must be exactly"),
        ({"v": 1, "id": "a", "ok": False, "error": ""}, "'error' must be a non-empty"),
        ({"v": 1, "id": None, "ok": False, "error": "x"}, "'id' must be a string"),
    ],
)
def test_decode_reply_rejects(obj: dict[str, object], reason: str) -> None:
    with pytest.raises(FrameError, match=None) as info:
        decode_reply(frame(obj))
    assert reason in str(info.value)

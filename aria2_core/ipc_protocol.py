"""The wire format between a second launch and the primary instance.

A second ``aria-tray`` launch never does work itself: it hands its links (or a
``--show`` / ``--quit``) to the primary over a local socket and exits once the
primary has acknowledged. Both ends are the same program, but not always the
same *version* of it (an update installed while the old one runs), so every
frame carries ``"v"`` and anything unexpected is refused with a reason the
user can read, rather than half-understood.

Framing is JSON lines: one UTF-8 JSON object per frame, ended by ``\\n``. A
frame (without its newline) is at most :data:`MAX_FRAME_BYTES`; the server
stops reading past that, so a runaway client cannot make the primary buffer
without bound. One connection carries one request and one reply.

Request: ``{"v": 1, "id": "<uuid4 hex>", "cmd": "open", "args": {...}}``
Reply:   ``{"v": 1, "id": "<same>", "ok": true, "result": {...}}`` or
         ``{"v": 1, "id": "<same>", "ok": false, "error": "<message>"}``

Version 2 adds one thing: an ``open`` item may be an object
``{"uri": "...", "options": {...}}`` carrying per-link aria2 options
(:data:`LINK_OPTIONS`: headers, file name, folder, referrer, user agent), which
is what the browser's native messaging host sends. A client writes the lowest
version that can say what it asks (so an older primary still understands
plain requests), and the reply carries the request's version. Header values
hold cookies: no message here ever quotes an option's value.

This module is pure Python: the forwarding client imports it without Qt.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aria2_core.add_options import file_name_ok, header_ok
from aria2_core.errors import IpcError

PROTOCOL_VERSION = 2  # the newest version this side speaks
SUPPORTED_VERSIONS = (1, 2)
MAX_FRAME_BYTES = 1024 * 1024
MAX_ITEMS = 10_000
MAX_ITEM_BYTES = 64 * 1024
MAX_ID_CHARS = 64
MAX_HEADERS = 32
MAX_OPTION_BYTES = 16 * 1024
MAX_OUT_BYTES = 255
# Per-link options of a version-2 ``open`` item, as aria2 spells them.
LINK_OPTIONS = frozenset({"header", "out", "dir", "referer", "user-agent"})
_ITEM_KEYS = frozenset({"uri", "options"})

# Each command with the argument names it requires. Arguments are exact: an
# unknown one is refused, because within one protocol version both ends agree.
COMMANDS: dict[str, frozenset[str]] = {
    "open": frozenset({"items", "cwd"}),
    "show": frozenset(),
    "quit": frozenset(),
    "status": frozenset(),
}

_REQUEST_KEYS = frozenset({"v", "id", "cmd", "args"})
_REPLY_KEYS_OK = frozenset({"v", "id", "ok", "result"})
_REPLY_KEYS_ERR = frozenset({"v", "id", "ok", "error"})


class FrameError(IpcError):
    """A frame that cannot be accepted, with the reason in the message.

    ``request_id`` is the frame's ``id`` when it could be read, else ``""``,
    so the server can still address its error reply to the right request.
    """

    def __init__(self, reason: str, request_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.request_id = request_id


@dataclass(frozen=True)
class Request:
    """One validated request; ``args`` matches :data:`COMMANDS` for ``cmd``."""

    cmd: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    v: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Reply:
    """One validated reply: ``result`` when ``ok``, else a human ``error``."""

    id: str
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def new_request_id() -> str:
    return uuid.uuid4().hex


def _dump(obj: dict[str, Any]) -> bytes:
    # ensure_ascii keeps lone surrogates (undecodable file names that Python
    # carries as surrogateescape) representable: they travel as \udcXX
    # escapes and come back as the very same str on the other side.
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _load_object(frame: bytes, what: str) -> dict[str, Any]:
    """Parse one frame into a dict, or raise FrameError saying exactly why."""
    if frame.endswith(b"\n"):
        frame = frame[:-1]
    if len(frame) > MAX_FRAME_BYTES:
        raise FrameError(f"{what} is {len(frame)} bytes, over the {MAX_FRAME_BYTES}-byte limit")
    if not frame.strip():
        raise FrameError(f"empty {what}")
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise FrameError(f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise FrameError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise FrameError(f"{what} must be a JSON object, not {type(obj).__name__}")
    return obj


def _check_version(obj: dict[str, Any], what: str, request_id: str) -> None:
    if "v" not in obj:
        raise FrameError(f"{what} has no protocol version 'v'", request_id)
    version = obj["v"]
    # bool is an int in Python, and true == 1: refuse it explicitly.
    if type(version) is not int:
        raise FrameError(f"{what} protocol version must be an integer", request_id)
    if version not in SUPPORTED_VERSIONS:
        raise FrameError(
            f"unsupported protocol version {version} (this Aria Tray speaks "
            f"versions {SUPPORTED_VERSIONS[0]}-{PROTOCOL_VERSION}); quit the running "
            "Aria Tray and start it again",
            request_id,
        )


def _read_id(obj: dict[str, Any], what: str) -> str:
    value = obj.get("id")
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
        raise FrameError(f"{what} 'id' must be a non-empty string of at most {MAX_ID_CHARS} chars")
    return value


def _validate_args(cmd: str, args: Any, version: int = PROTOCOL_VERSION) -> dict[str, Any]:
    """Check ``args`` for ``cmd``; shared by encoder and decoder so both agree."""
    if cmd not in COMMANDS:
        known = ", ".join(sorted(COMMANDS))
        raise FrameError(f"unknown command {cmd!r} (known: {known})")
    if not isinstance(args, dict):
        raise FrameError(f"'args' of {cmd!r} must be a JSON object")
    expected = COMMANDS[cmd]
    extra = sorted(set(args) - expected)
    if extra:
        raise FrameError(f"unexpected argument(s) for {cmd!r}: {', '.join(map(str, extra))}")
    missing = sorted(expected - set(args))
    if missing:
        raise FrameError(f"missing argument(s) for {cmd!r}: {', '.join(missing)}")
    if cmd == "open":
        _validate_open(args, version)
    return args


def _validate_open(args: dict[str, Any], version: int) -> None:
    items = args["items"]
    if not isinstance(items, list):
        raise FrameError("'items' must be a list of strings")
    if not items:
        raise FrameError("'items' is empty: nothing to open (send 'show' instead)")
    if len(items) > MAX_ITEMS:
        raise FrameError(f"{len(items)} items, more than the limit of {MAX_ITEMS}")
    for index, item in enumerate(items):
        if isinstance(item, dict) and version >= 2:
            _validate_item_object(index, item)
            continue
        if not isinstance(item, str):
            kind = "a string or a {uri, options} object" if version >= 2 else "a string"
            raise FrameError(f"item {index} is {type(item).__name__}, not {kind}")
        _check_text(f"item {index}", item, MAX_ITEM_BYTES)
    if not isinstance(args["cwd"], str):
        raise FrameError("'cwd' must be a string")


def _check_text(what: str, value: str, limit: int) -> None:
    """Non-empty and within ``limit`` bytes; the value itself is never quoted."""
    if not value:
        raise FrameError(f"{what} is an empty string")
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise FrameError(f"{what} is {size} bytes, over the {limit}-byte limit")


def _one_line(what: str, value: Any, limit: int = MAX_OPTION_BYTES) -> str:
    if not isinstance(value, str):
        raise FrameError(f"{what} must be a string, not {type(value).__name__}")
    _check_text(what, value, limit)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise FrameError(f"{what} contains a control character")
    return value


def _validate_item_object(index: int, item: dict[str, Any]) -> None:
    """A version-2 item: ``{"uri": str, "options": {...}}``, every option checked.

    Messages name the option but never its value: a header may be a cookie.
    """
    what = f"item {index}"
    if set(item) != _ITEM_KEYS:
        fields = ", ".join(sorted(map(str, set(item) ^ _ITEM_KEYS)))
        raise FrameError(f"{what} must have exactly the fields uri and options (not: {fields})")
    if not isinstance(item["uri"], str):
        raise FrameError(f"{what} 'uri' must be a string")
    _check_text(f"{what} 'uri'", item["uri"], MAX_ITEM_BYTES)
    options = item["options"]
    if not isinstance(options, dict):
        raise FrameError(f"{what} 'options' must be a JSON object")
    unknown = sorted(str(key)[:40] for key in set(options) - LINK_OPTIONS)
    if unknown:
        known = ", ".join(sorted(LINK_OPTIONS))
        raise FrameError(f"{what} has unknown option(s) {', '.join(unknown)} (known: {known})")
    for key in ("out", "dir", "referer", "user-agent"):
        if key in options:
            limit = MAX_OUT_BYTES if key == "out" else MAX_OPTION_BYTES
            _one_line(f"{what} option {key!r}", options[key], limit)
    if "out" in options and not file_name_ok(options["out"]):
        raise FrameError(f"{what} option 'out' must be a plain file name, not a path")
    if "dir" in options and not _is_absolute(options["dir"]):
        raise FrameError(f"{what} option 'dir' must be an absolute folder")
    if "header" in options:
        headers = options["header"]
        if not isinstance(headers, list) or len(headers) > MAX_HEADERS:
            raise FrameError(f"{what} option 'header' must be a list of at most {MAX_HEADERS}")
        for number, line in enumerate(headers):
            _one_line(f"{what} header {number}", line)
            if not header_ok(line):
                raise FrameError(f"{what} header {number} is not 'Name: value'")


def _is_absolute(path: str) -> bool:
    # Both ends run on the same machine, so the local rules apply; a Windows
    # drive path also counts, whichever side checks it.
    return path.startswith("/") or (len(path) > 2 and path[1] == ":" and path[2] in "\\/")


def version_for(cmd: str, args: dict[str, Any]) -> int:
    """The lowest protocol version that can carry this request."""
    if cmd == "open" and any(isinstance(i, dict) for i in args.get("items", [])):
        return 2
    return 1


def encode_request(cmd: str, args: dict[str, Any], *, request_id: str | None = None) -> bytes:
    """One request frame, newline included.

    Validates like the server does, so a launch with 20,000 links fails here
    with a clear message instead of being refused by the primary.
    """
    version = version_for(cmd, args) if isinstance(args, dict) else 1
    _validate_args(cmd, args, version)
    frame = _dump({"v": version, "id": request_id or new_request_id(), "cmd": cmd, "args": args})
    if len(frame) - 1 > MAX_FRAME_BYTES:
        raise FrameError(
            f"request is {len(frame) - 1} bytes, over the {MAX_FRAME_BYTES}-byte limit; "
            "pass fewer links at once"
        )
    return frame


def decode_request(frame: bytes) -> Request:
    """Validate one request frame strictly; raise :class:`FrameError` with the reason."""
    obj = _load_object(frame, "request")
    raw_id = obj.get("id")
    salvaged = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_ID_CHARS else ""
    _check_version(obj, "request", salvaged)
    version = obj["v"]
    request_id = _read_id(obj, "request")
    extra = sorted(set(obj) - _REQUEST_KEYS)
    if extra:
        raise FrameError(f"unexpected request field(s): {', '.join(extra)}", request_id)
    cmd = obj.get("cmd")
    if not isinstance(cmd, str):
        raise FrameError("request 'cmd' must be a string", request_id)
    if "args" not in obj:
        raise FrameError("request has no 'args'", request_id)
    try:
        args = _validate_args(cmd, obj["args"], version)
    except FrameError as exc:
        raise FrameError(exc.reason, request_id) from None
    return Request(cmd=cmd, args=args, id=request_id, v=version)


def encode_reply(
    request_id: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    version: int = 1,
) -> bytes:
    """One reply frame: pass ``result`` for success or ``error`` for a refusal.

    ``request_id`` may be ``""`` when the request was too broken to carry one.
    ``version`` is the request's (1 when unknown), so an older client reads it.
    """
    if (result is None) == (error is None):
        raise ValueError("encode_reply needs exactly one of result= or error=")
    if error is not None:
        message = error or "request failed"
        obj: dict[str, Any] = {"v": version, "id": request_id, "ok": False}
        obj["error"] = message
    else:
        if not isinstance(result, dict):
            raise TypeError(f"reply result must be a dict, not {type(result).__name__}")
        obj = {"v": version, "id": request_id, "ok": True, "result": result}
    return _dump(obj)


def decode_reply(frame: bytes) -> Reply:
    """Validate one reply frame; raise :class:`FrameError` if it is not a reply."""
    obj = _load_object(frame, "reply")
    _check_version(obj, "reply", "")
    request_id = obj.get("id")
    if not isinstance(request_id, str) or len(request_id) > MAX_ID_CHARS:
        raise FrameError("reply 'id' must be a string")
    ok = obj.get("ok")
    if not isinstance(ok, bool):
        raise FrameError("reply 'ok' must be true or false")
    keys = _REPLY_KEYS_OK if ok else _REPLY_KEYS_ERR
    if set(obj) != keys:
        raise FrameError(f"reply fields must be exactly {', '.join(sorted(keys))}")
    if ok:
        if not isinstance(obj["result"], dict):
            raise FrameError("reply 'result' must be a JSON object")
        return Reply(id=request_id, ok=True, result=obj["result"])
    if not isinstance(obj["error"], str) or not obj["error"]:
        raise FrameError("reply 'error' must be a non-empty string")
    return Reply(id=request_id, ok=False, error=obj["error"])

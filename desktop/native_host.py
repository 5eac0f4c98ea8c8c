"""The browser's native messaging host: ``aria-tray --native-host``.

The browser starts this process when the Aria Tray extension sends a
message, and talks to it over stdin/stdout in its own framing: a 32-bit
length in native byte order (little-endian on every platform we ship), then
that many bytes of UTF-8 JSON. Each message gets one reply in the same
framing. The host does no download work itself: it checks the message as
strictly as the IPC server checks a frame, turns each download into a
version-2 ``open`` item (URL plus per-link options: cookies as a header,
referrer, user agent, the file name the browser chose) and hands them to the
running Aria Tray through the doorbell, starting Aria Tray if nobody answers.

Messages (from ``resources/browser/logic.js``)::

    {"type": "ping"}
    {"type": "download", "downloads": [{"url": …, "filename": …, "referrer": …,
                                        "cookies": …, "userAgent": …}, …]}

Replies: ``{"status": "accepted", "count": n}``, ``{"status": "ok", …}`` for
a ping, or ``{"status": "refused", "reason": "…"}``. A refusal makes the
extension let the browser download the file itself, so nothing is lost.

Cookie and header values are secrets: they are never logged or echoed; a
refusal names the field, never its value. Like the forwarding launch, this
module imports no Qt on POSIX, so a browser download costs a few
milliseconds of Python start-up, not a Qt load.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from aria2_core import __version__
from aria2_core.add_options import file_name_ok
from aria2_core.errors import AriaTrayError, IpcError
from aria2_core.ipc_protocol import FrameError, encode_request
from aria2_core.links import URL_SCHEMES
from aria2_core.paths import AppPaths

from .browser_hosts import HOST_NAME
from .ipc_client import PrimaryUnavailable, send_request

MAX_MESSAGE_BYTES = 1024 * 1024
MAX_DOWNLOADS = 100
START_WAIT_S = 20.0
_RETRY_S = 0.1
_LINK_SCHEMES = (*URL_SCHEMES, "magnet")
_MESSAGE_KEYS = {"ping": frozenset({"type"}), "download": frozenset({"type", "downloads"})}
_DOWNLOAD_KEYS = frozenset({"url", "filename", "referrer", "cookies", "userAgent"})


class Refusal(AriaTrayError):
    """A message the host will not act on; the text goes back to the extension."""


class StreamBroken(Refusal):
    """The framing itself is broken (oversized or cut off): answer once, then stop."""


@dataclass(frozen=True)
class Download:
    """One checked download from the extension."""

    url: str
    filename: str = ""
    referrer: str = ""
    cookies: str = ""
    user_agent: str = ""

    def ipc_item(self) -> dict[str, Any]:
        """The version-2 ``open`` item: the URL and aria2 options for it alone."""
        options: dict[str, Any] = {}
        if self.cookies:
            options["header"] = [f"Cookie: {self.cookies}"]
        if self.referrer:
            options["referer"] = self.referrer
        if self.user_agent:
            options["user-agent"] = self.user_agent
        name = _plain_name(self.filename)
        if name:
            options["out"] = name
        return {"uri": self.url, "options": options}


def _plain_name(filename: str) -> str:
    """The browser's chosen name without its folder (Firefox sends a full path)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or not file_name_ok(name) or len(name.encode("utf-8", "replace")) > 255:
        return ""
    return name


# -- framing -------------------------------------------------------------------
def read_message(stream: BinaryIO) -> bytes | None:
    """One message body, or None at a clean end of input (the browser hung up)."""
    header = _read_exact(stream, 4)
    if not header:
        return None
    if len(header) < 4:
        raise StreamBroken("the message length was cut off")
    (length,) = struct.unpack("<I", header)
    if length > MAX_MESSAGE_BYTES:
        raise StreamBroken(
            f"message of {length} bytes is over the {MAX_MESSAGE_BYTES}-byte limit; not read"
        )
    body = _read_exact(stream, length)
    if len(body) < length:
        raise StreamBroken(f"message cut off after {len(body)} of {length} bytes")
    return body


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    stream.write(struct.pack("<I", len(body)) + body)
    stream.flush()


# -- checking ------------------------------------------------------------------
def parse_message(body: bytes) -> tuple[str, list[Download]]:
    """``(type, downloads)`` of a well-formed message; :class:`Refusal` says what is wrong."""
    try:
        obj = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise Refusal("the message is not valid UTF-8") from None
    except RecursionError:
        raise Refusal("the message is nested too deeply") from None
    except ValueError as exc:
        raise Refusal(f"the message is not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise Refusal("the message must be a JSON object")
    kind = obj.get("type")
    if kind not in _MESSAGE_KEYS:
        raise Refusal(f"unknown message type (known: {', '.join(sorted(_MESSAGE_KEYS))})")
    _exact_keys(obj, _MESSAGE_KEYS[kind], "the message")
    if kind == "ping":
        return kind, []
    downloads = obj["downloads"]
    if not isinstance(downloads, list) or not 1 <= len(downloads) <= MAX_DOWNLOADS:
        raise Refusal(f"'downloads' must be a list of 1 to {MAX_DOWNLOADS} downloads")
    return kind, [_download(index, item) for index, item in enumerate(downloads)]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _exact_keys(obj: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(str(key)[:40] for key in set(obj) - allowed)
    if unknown:
        raise Refusal(f"{what} has unknown field(s): {', '.join(unknown)}")


def _download(index: int, item: Any) -> Download:
    what = f"download {index}"
    if not isinstance(item, dict):
        raise Refusal(f"{what} must be a JSON object")
    _exact_keys(item, _DOWNLOAD_KEYS, what)
    for key in _DOWNLOAD_KEYS - {"url"}:
        if key in item and not isinstance(item[key], str):
            raise Refusal(f"{what} field {key!r} must be a string")
    url = item.get("url")
    if not isinstance(url, str) or not url.strip():
        raise Refusal(f"{what} has no 'url'")
    url = url.strip()
    scheme = urlsplit(url).scheme.lower() if ":" in url else ""
    if scheme not in _LINK_SCHEMES:
        raise Refusal(
            f"{what}: Aria Tray downloads http, https, ftp, sftp and magnet links, "
            f"not {scheme + ':' if scheme else 'this kind of'} link"
        )
    return Download(
        url=url,
        filename=item.get("filename", ""),
        referrer=item.get("referrer", ""),
        cookies=item.get("cookies", ""),
        user_agent=item.get("userAgent", ""),
    )


# -- forwarding ------------------------------------------------------------------
def forward(paths: AppPaths, downloads: list[Download], wait: float = START_WAIT_S) -> int:
    """Hand the downloads to the running Aria Tray, starting it if nobody answers.

    Returns how many were accepted; raises :class:`Refusal` with the reason.
    """
    args = {"items": [d.ipc_item() for d in downloads], "cwd": ""}
    try:
        encode_request("open", args)  # the same checks the primary applies
    except FrameError as exc:
        raise Refusal(exc.reason) from None
    deadline = time.monotonic() + wait
    started = False
    while True:
        try:
            result = send_request(paths.server_name, "open", args)
            return int(result.get("accepted", 0))
        except PrimaryUnavailable:
            if not started:
                _start_app()
                started = True
            elif time.monotonic() >= deadline:
                raise Refusal(f"Aria Tray did not start within {wait:.0f} s") from None
            time.sleep(_RETRY_S)
        except IpcError as exc:
            raise Refusal(f"Aria Tray refused: {exc}") from None


def _start_app() -> None:
    """Start Aria Tray detached, so it outlives this host and the browser's job."""
    from .integration import IntegrationError, start_detached

    try:
        start_detached()
    except IntegrationError as exc:
        raise Refusal(str(exc)) from None


# -- the loop ----------------------------------------------------------------------
def answer(paths: AppPaths, body: bytes) -> dict[str, Any]:
    """The reply to one message body."""
    try:
        kind, downloads = parse_message(body)
        if kind == "ping":
            return {"status": "ok", "version": __version__, "host": HOST_NAME}
        return {"status": "accepted", "count": forward(paths, downloads)}
    except Refusal as exc:
        return refused(str(exc))


def refused(reason: str) -> dict[str, Any]:
    return {"status": "refused", "reason": reason}


def serve(stdin: BinaryIO, stdout: BinaryIO, paths: AppPaths) -> int:
    """Answer messages until the browser closes stdin. Exit code 0, or 1 on broken framing."""
    while True:
        try:
            body = read_message(stdin)
        except StreamBroken as exc:
            write_message(stdout, refused(str(exc)))
            return 1
        if body is None:
            return 0
        write_message(stdout, answer(paths, body))


def _binary_stdio() -> tuple[BinaryIO, BinaryIO]:
    """stdin/stdout as unbuffered binary files, also in a windowed Windows build.

    Windows would otherwise turn ``\\n`` into ``\\r\\n`` inside the length-
    prefixed frames, and a windowed (console-less) build has no
    ``sys.stdin``; the inherited pipe handles are still there.
    """
    if sys.platform == "win32":
        import msvcrt

        for fd, handle_id in ((0, -10), (1, -11)):  # STD_INPUT_HANDLE, STD_OUTPUT_HANDLE
            try:
                os.fstat(fd)
            except OSError:
                import ctypes

                handle = ctypes.windll.kernel32.GetStdHandle(handle_id)
                os.dup2(msvcrt.open_osfhandle(handle, 0), fd)
            msvcrt.setmode(fd, os.O_BINARY)
    return open(0, "rb", buffering=0, closefd=False), open(1, "wb", buffering=0, closefd=False)


def main() -> int:
    """Entry point for ``aria-tray --native-host`` (the browser adds its own arguments).

    No app home is created here: if Aria Tray must be started, it does that.
    """
    stdin, stdout = _binary_stdio()
    return serve(stdin, stdout, AppPaths.for_home())

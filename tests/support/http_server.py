"""A real, local HTTP/1.1 file server for download tests.

aria2 is picky in the ways that matter to us: it splits files into ranges,
keeps connections alive and resumes with ``Range`` after a restart. So this
server implements single-range requests properly (206, ``Content-Range``,
416 for an unsatisfiable range, ``Accept-Ranges``, ``HEAD``) instead of
serving whole files only. A per-connection throttle makes a download last
long enough for a test to pause it, kill aria2c mid-way, or resume it.

It binds 127.0.0.1 on a kernel-chosen port, runs in daemon threads, and
``stop()`` closes every open connection so no handler thread outlives it.

For the browser tests it also plays a small web site: fixed responses
(:attr:`FileServer.pages`: HTML pages, redirects, a login that sets a
cookie), and files that answer 403 without a given cookie or referrer
(:attr:`FileServer.guards`), served as attachments so a browser downloads
them instead of showing them.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote, unquote, urlsplit

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 64 * 1024
_SENDFILE_CHUNK = 4 * 1024 * 1024  # between two looks at the throttle


@dataclass(frozen=True)
class RequestRecord:
    """One request the server saw, so tests can assert on how aria2 fetched."""

    method: str
    path: str
    range: str | None
    user_agent: str = ""


@dataclass(frozen=True)
class Page:
    """A fixed response: an HTML page, a redirect (302 + Location), a cookie-setting login."""

    body: str = ""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def redirect(cls, location: str, *headers: tuple[str, str]) -> Page:
        return cls(status=302, headers=(("Location", location), *headers))


@dataclass(frozen=True)
class Guard:
    """What a file needs, or the server answers 403: a cookie pair, a referrer prefix."""

    cookie: str = ""
    referer: str = ""

    def allows(self, cookie_header: str, referer: str) -> bool:
        cookies = {c.strip() for c in cookie_header.split(";")}
        if self.cookie and self.cookie not in cookies:
            return False
        return not self.referer or referer.startswith(self.referer)


@dataclass(frozen=True)
class Payload:
    """A random file the test server serves: where it is, its hash, its URL."""

    name: str
    path: Path
    size: int
    sha256: str
    url: str


class PayloadFactory(Protocol):
    """The ``payload_factory`` fixture: ``payload_factory("a.bin", 1024) -> Payload``."""

    def __call__(self, name: str = ..., size: int = ...) -> Payload: ...


def make_payload(folder: str | os.PathLike[str], name: str, size: int) -> tuple[Path, str]:
    """Write ``size`` random bytes to ``folder/name``; return the path and its sha256 hex.

    Random bytes, not zeros: a download that mixes up ranges must fail the
    checksum, and zeros would hide that.
    """
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left > 0:
            chunk = os.urandom(min(left, 1024 * 1024))
            digest.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    return path, digest.hexdigest()


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The sha256 hex of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        for chunk in iter(lambda: src.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: FileServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away is normal (Windows reports a reset or a shut-down
        socket while reading the next request line); anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AriaTrayTestServer/1"
    server: _Server
    # Idle keep-alive connections give up eventually even if stop() is never called.
    timeout = 60

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: pytest captures nothing useful from a per-request log line."""

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def _resolve(self) -> Path | None:
        owner = self.server.owner
        relative = unquote(urlsplit(self.path).path).lstrip("/")
        target = (owner.root / relative).resolve()
        if target != owner.root and owner.root not in target.parents:
            return None
        return target if target.is_file() else None

    def _send_error_status(self, status: HTTPStatus, extra: dict[str, str] | None = None) -> None:
        body = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_page(self, page: Page) -> None:
        body = page.body.encode("utf-8")
        self.send_response(page.status)
        for key, value in page.headers:
            self.send_header(key, value)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self, send_body: bool) -> None:
        owner = self.server.owner
        range_header = self.headers.get("Range")
        agent = self.headers.get("User-Agent", "")
        owner._record(RequestRecord(self.command, self.path, range_header, agent))
        name = unquote(urlsplit(self.path).path).lstrip("/")
        page = owner.pages.get(name)
        if page is not None:
            self._send_page(page)
            return
        guard = owner.guards.get(name)
        if guard and not guard.allows(
            self.headers.get("Cookie", ""), self.headers.get("Referer", "")
        ):
            self._send_error_status(HTTPStatus.FORBIDDEN)
            return
        target = self._resolve()
        if target is None:
            self._send_error_status(HTTPStatus.NOT_FOUND)
            return
        size = target.stat().st_size
        span = _parse_range(range_header, size)
        if isinstance(span, str):  # "unsatisfiable"
            self._send_error_status(
                HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, {"Content-Range": f"bytes */{size}"}
            )
            return
        start, end = span if span is not None else (0, size - 1)
        length = max(0, end - start + 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if span else HTTPStatus.OK)
        if span:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        if name in owner.attachments:
            self.send_header("Content-Disposition", f'attachment; filename="{target.name}"')
        self.send_header("Content-Length", str(length))
        self.send_header("Last-Modified", formatdate(target.stat().st_mtime, usegmt=True))
        self.end_headers()
        if send_body and length:
            with target.open("rb") as src:
                src.seek(start)
                self._copy(src, length)

    def _copy(self, src: BinaryIO, length: int) -> None:
        """Send ``length`` bytes, no faster than the owner's throttle allows."""
        owner = self.server.owner
        sent = 0
        rate: int | None = -1  # not yet read
        while sent < length:
            if (new_rate := owner.throttle_for(self.path)) != rate:
                # A changed rate paces from now on, not from the first byte.
                rate, started, paced = new_rate, time.monotonic(), 0
            try:
                if rate:
                    chunk = src.read(min(_CHUNK, length - sent, max(1024, rate // 10)))
                    self.wfile.write(chunk)
                    count = len(chunk)
                else:
                    # Unthrottled: the kernel copies file to socket (sendfile where the
                    # OS has it), so this Python server is not what a throughput bench
                    # measures, nor the CPU it competes with aria2c for.
                    count = self.connection.sendfile(
                        src, src.tell(), min(_SENDFILE_CHUNK, length - sent)
                    )
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                return
            if not count:
                break
            sent += count
            paced += count
            if rate:
                ahead = paced / rate - (time.monotonic() - started)
                # Waiting on the stop event, not sleeping, lets stop() cut us off at once.
                if ahead > 0 and owner._stopping.wait(ahead):
                    self.close_connection = True
                    return


def _parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """One ``bytes=a-b`` range as inclusive offsets, ``None`` for "whole file".

    Multi-range requests get the whole file, which RFC 9110 allows; aria2
    never sends them.
    """
    if not header:
        return None
    match = _RANGE_RE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


class FileServer:
    """Serve the files below ``root`` at ``http://127.0.0.1:<port>/``.

    ``throttle`` (bytes per second, per connection, ``None`` for full speed)
    can be changed while the server runs; it applies to the next chunk.
    """

    def __init__(self, root: str | os.PathLike[str], throttle: int | None = None) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.throttle = throttle
        # Per file (its name below root), over ``throttle``; also changeable while serving.
        self.file_throttle: dict[str, int] = {}
        # The small web site of the browser tests, by path below the root.
        self.pages: dict[str, Page] = {}
        self.guards: dict[str, Guard] = {}
        self.attachments: set[str] = set()  # files sent with Content-Disposition: attachment
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._requests: list[RequestRecord] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FileServer:
        if self._server is not None:
            return self
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"test-http-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def __enter__(self) -> FileServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not started")
        return int(self._server.server_address[1])

    def url(self, name: str) -> str:
        """The URL of ``root/name`` (``name`` may contain slashes and spaces)."""
        return f"http://127.0.0.1:{self.port}/{quote(name)}"

    def requests_for(self, name: str) -> list[RequestRecord]:
        """The requests that asked for ``name`` (a path below the root), in order."""
        return [r for r in self.requests if unquote(urlsplit(r.path).path).lstrip("/") == name]

    def throttle_for(self, request_path: str) -> int | None:
        """Bytes per second per connection for a request: its file's own rate, else ``throttle``."""
        name = unquote(urlsplit(request_path).path).lstrip("/")
        return self.file_throttle.get(name, self.throttle)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def stop(self) -> None:
        """Stop serving and cut open connections. Safe to call twice."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    # -- used by the handler ---------------------------------------------------
    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

"""How a second launch reaches the primary instance: the doorbell.

Two separate mechanisms, on purpose ("one mutex, one doorbell"):

* :class:`~desktop.instance_lock.InstanceLock` (a ``QLockFile``) decides who
  the primary is. A ``QLocalServer`` cannot: on Linux a second ``listen()``
  silently steals the socket path from a live server, and on Windows several
  servers share a pipe.
* :class:`IpcServer` (a ``QLocalServer``, here) only carries messages to whoever
  holds the lock. It speaks :mod:`aria2_core.ipc_protocol`: one request line
  and one reply line per connection.

The server is event driven (signals and timers, no polling) and treats every
client as untrusted: a broken, oversized or silent client is answered or
dropped, logged, and never stops the next one from being served.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

from aria2_core.errors import IpcError
from aria2_core.ipc_protocol import (
    MAX_FRAME_BYTES,
    FrameError,
    Request,
    decode_request,
    encode_reply,
)

from .win_pipe import claim_pipe_name, release_claim

log = logging.getLogger("aria_tray.ipc")

DEFAULT_IDLE_TIMEOUT_MS = 5000
# The listen backlog (Qt passes it to listen(2) on Unix): a burst of launches
# waits in the kernel instead of meeting EAGAIN.
MAX_PENDING_CONNECTIONS = 512
# Clients served at once; more are closed at once, unread, and retry. This keeps
# a flood of connections from exhausting our file descriptors (EMFILE makes
# QLocalServer close itself and delete its socket).
MAX_CONNECTIONS = 128
RELISTEN_RETRY_MS = 1000


class DeferredReply:
    """A handler's promise to answer later, on the GUI thread.

    An ``open`` is acknowledged only once its journal entry is fsync'd, and
    that fsync runs on a worker so it never stalls the GUI thread: the
    handler returns one of these at once and resolves it when the worker is
    done. The connection stays open meanwhile, without the idle timeout (the
    client's own deadline bounds its wait); a client gone by then simply
    gets nothing, and retries.
    """

    __slots__ = ("_deliver", "_outcome")

    def __init__(self) -> None:
        self._deliver: Callable[[dict[str, Any] | None, str], None] | None = None
        self._outcome: tuple[dict[str, Any] | None, str] | None = None

    def resolve(self, result: dict[str, Any]) -> None:
        """Answer with ``result``; only the first resolve or fail counts."""
        self._settle(result, "")

    def fail(self, message: str) -> None:
        """Answer with an error reply carrying ``message``."""
        self._settle(None, message or "failed")

    def _settle(self, result: dict[str, Any] | None, error: str) -> None:
        if self._outcome is not None:
            return
        self._outcome = (result, error)
        if self._deliver is not None:
            self._deliver(result, error)

    def _attach(self, deliver: Callable[[dict[str, Any] | None, str], None]) -> None:
        self._deliver = deliver
        if self._outcome is not None:  # settled before the server attached
            deliver(*self._outcome)


Handler = Callable[[Request], "dict[str, Any] | DeferredReply"]


class _Connection:
    """Per-client state: the socket, what it sent so far, and its deadline."""

    __slots__ = ("buffer", "closing", "gone", "socket", "timer")

    def __init__(self, socket: QLocalSocket, timer: QTimer) -> None:
        self.socket = socket
        self.timer = timer
        self.buffer = bytearray()
        self.closing = False  # replied or rejected: ignore anything else it sends
        self.gone = False  # disconnected or aborted: never write to it again


class IpcServer(QObject):
    """Serves one request per connection, handing valid ones to ``handler``.

    ``handler`` runs synchronously on the GUI thread and returns the reply's
    ``result`` dict, or a :class:`DeferredReply` it resolves later (an
    ``open``, once its journal entry is on disk); an exception it raises, or
    a failed deferred reply, becomes an error reply.
    Each client must deliver its whole request line within ``idle_timeout_ms``
    of connecting, or it is dropped, so a silent client cannot pin a socket.

    Outcomes are counted rather than signalled: the handler is the hook for
    real work, and nothing a client does costs more than a log line. (Also,
    PySide6 6.12.0 on Python 3.11 leaks a reference to ``True`` per Python
    ``emit()``; a per-connection emit would let any local process abort the
    primary after a few hundred connections.)
    """

    def __init__(
        self,
        server_name: str,
        handler: Handler,
        parent: QObject | None = None,
        *,
        idle_timeout_ms: int | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        super().__init__(parent)
        self.server_name = server_name
        self._handler = handler
        # Read when the server is made (not when the module is): a test may lengthen it.
        self._idle_timeout_ms = idle_timeout_ms or DEFAULT_IDLE_TIMEOUT_MS
        self._max_connections = max_connections
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.setMaxPendingConnections(MAX_PENDING_CONNECTIONS)
        self._server.newConnection.connect(self._on_new_connection)
        self._conns: set[_Connection] = set()
        self._closed = False
        self._at_cap = False
        # QLocalServer closes itself (and deletes its socket) when accept()
        # fails, and says nothing. Watching the socket file notices that, or
        # anyone deleting it, without polling; then we listen again.
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._check_listening)
        self._relisten_timer = QTimer(self)
        self._relisten_timer.setSingleShot(True)
        self._relisten_timer.setInterval(RELISTEN_RETRY_MS)
        self._relisten_timer.timeout.connect(self._check_listening)
        self.served_count = 0  # requests answered (ok or handler error)
        self.rejected_count = 0  # malformed frames, each logged as a WARNING
        self.timed_out_count = 0  # clients dropped by the idle timeout
        self.refused_count = 0  # connections over the cap, closed unread
        self.relisten_count = 0  # times the server had stopped and listened again

    @property
    def is_listening(self) -> bool:
        return self._server.isListening()

    @property
    def full_server_name(self) -> str:
        return self._server.fullServerName()

    @property
    def active_connections(self) -> int:
        return len(self._conns)

    @property
    def has_knocking(self) -> bool:
        """Whether a launch's connection waits in the system's queue, not yet accepted.

        Read with ``select`` on the listening socket: nothing is accepted or
        changed. For a caller about to keep the GUI thread busy (the UI
        build), which lets the event loop take it first. POSIX only (a named
        pipe has no such queue to look at): False on Windows.
        """
        if sys.platform == "win32" or not self._server.isListening():
            return False
        fd = int(self._server.socketDescriptor())
        if fd < 0:
            return False
        import select

        try:
            readable, _, _ = select.select([fd], [], [], 0)
        except (OSError, ValueError):
            return False
        return bool(readable)

    def listen(self) -> None:
        """Start listening; call only while holding the :class:`InstanceLock`.

        Holding the lock is what makes it safe to remove whatever sits at the
        name first: a socket file left by a crashed primary is ours.
        """
        if self._closed:
            raise IpcError("this IPC server was closed; create a new one")
        if self._server.isListening():
            return
        claim = claim_pipe_name(self.server_name)  # Windows: refuse a name someone else made
        try:
            self._listen()
        finally:
            release_claim(claim)

    def _listen(self) -> None:
        QLocalServer.removeServer(self.server_name)
        if not self._server.listen(self.server_name):
            if self._server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
                log.info("IPC name %s in use, removing it and retrying", self.server_name)
                QLocalServer.removeServer(self.server_name)
                if self._server.listen(self.server_name):
                    self._after_listen()
                    return
            raise IpcError(
                f"Cannot listen for other launches on {self.server_name}: "
                f"{self._server.errorString()}"
            )
        self._after_listen()

    def _after_listen(self) -> None:
        if sys.platform != "win32":
            path = self._server.fullServerName()
            try:
                os.chmod(path, 0o600)
            except FileNotFoundError:
                self._server.close()
                raise IpcError(
                    f"The IPC socket {self.server_name} vanished right after listen()"
                ) from None
            if path not in self._watcher.files():
                self._watcher.addPath(path)
        log.info("listening for other launches on %s", self._server.fullServerName())

    def _check_listening(self, *_: object) -> None:
        """Listen again if the server stopped or its socket file went away."""
        if self._closed:
            return
        path = self._server.fullServerName() or self.server_name
        if self._server.isListening() and (sys.platform == "win32" or os.path.exists(path)):
            if path not in self._watcher.files():
                self._watcher.addPath(path)  # replaced in place: watch the new one
            return
        log.warning(
            "the IPC server on %s stopped (%s); listening again",
            self.server_name,
            self._server.errorString() or "socket file removed",
        )
        self._server.close()
        try:
            self.listen()
        except IpcError as exc:
            log.warning("%s; retrying in %d ms", exc, RELISTEN_RETRY_MS)
            self._relisten_timer.start()
            return
        self.relisten_count += 1

    def close(self) -> None:
        """Stop listening and drop every client not yet answered; safe to call twice.

        A dropped client sees the connection close without an answer, which
        its launch treats as "busy": it retries, finds no server, and waits
        for the lock. Nothing it sent was acknowledged, so nothing is lost.
        """
        if self._closed:
            return
        self._closed = True
        self._relisten_timer.stop()
        if self._watcher.files():
            self._watcher.removePaths(self._watcher.files())
        was_listening = self._server.isListening()
        self._server.close()
        for conn in list(self._conns):
            if conn.closing and not conn.gone:
                continue  # answered: let its reply (a --quit's pid) reach the client
            conn.closing = conn.gone = True
            conn.socket.abort()
            self._forget(conn)
        if was_listening:
            QLocalServer.removeServer(self.server_name)
        log.debug("IPC server on %s closed", self.server_name)

    # -- connections --------------------------------------------------------
    def _on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            if socket is None:
                break
            if len(self._conns) >= self._max_connections:
                self._refuse(socket)
                continue
            self._at_cap = False
            self._accept(socket)

    def _refuse(self, socket: QLocalSocket) -> None:
        """Close a connection over the cap at once; its client sees "busy" and retries."""
        self.refused_count += 1
        if not self._at_cap:
            self._at_cap = True
            log.warning(
                "%d IPC clients at once: closing extra connections until some finish",
                len(self._conns),
            )
        socket.abort()
        socket.deleteLater()

    def _accept(self, socket: QLocalSocket) -> None:
        timer = QTimer(socket)
        timer.setSingleShot(True)
        conn = _Connection(socket, timer)
        self._conns.add(conn)
        timer.timeout.connect(functools.partial(self._on_timeout, conn))
        socket.readyRead.connect(functools.partial(self._consume, conn))
        socket.disconnected.connect(functools.partial(self._on_disconnected, conn))
        timer.start(self._idle_timeout_ms)
        # The client may have written, or even gone, before we got here.
        if socket.bytesAvailable():
            self._consume(conn)
        if socket.state() == QLocalSocket.LocalSocketState.UnconnectedState:
            self._on_disconnected(conn)

    def _consume(self, conn: _Connection) -> None:
        """Buffer what arrived; act once a full line, or too much, is there."""
        data = bytes(conn.socket.readAll().data())
        if conn.closing:
            return
        conn.buffer += data
        end = conn.buffer.find(b"\n")
        if end == -1:
            if len(conn.buffer) > MAX_FRAME_BYTES:
                self._reject(conn, f"frame exceeds {MAX_FRAME_BYTES} bytes without a newline")
            return
        if end > MAX_FRAME_BYTES:
            self._reject(conn, f"frame is {end} bytes, over the {MAX_FRAME_BYTES}-byte limit")
            return
        frame = bytes(conn.buffer[:end])
        try:
            request = decode_request(frame)
        except FrameError as exc:
            self._reject(conn, exc.reason, exc.request_id)
            return
        self._serve(conn, request)

    def _serve(self, conn: _Connection, request: Request) -> None:
        conn.closing = True
        log.debug("IPC request %s %s", request.id, request.cmd)
        try:
            result = self._handler(request)
            if isinstance(result, DeferredReply):
                # The idle timer is for the client; this wait is ours. Dropping
                # the client now would make it send the same links again.
                conn.timer.stop()
                result._attach(functools.partial(self._answer, conn, request))
                return
            if not isinstance(result, dict):
                raise TypeError(f"IPC handler returned {type(result).__name__}, not dict")
        except Exception as exc:
            log.exception("IPC handler failed on %r", request.cmd)
            self._answer(conn, request, None, str(exc) or type(exc).__name__)
            return
        self._answer(conn, request, result, "")

    def _answer(
        self, conn: _Connection, request: Request, result: dict[str, Any] | None, error: str
    ) -> None:
        """Send the reply (an error one when ``error`` is set); count it as served."""
        if error:
            frame = encode_reply(request.id, error=error, version=request.v)
        else:
            frame = encode_reply(request.id, result=result, version=request.v)
        self._respond(conn, frame)
        self.served_count += 1

    def _reject(self, conn: _Connection, reason: str, request_id: str = "") -> None:
        conn.closing = True
        log.warning("rejected IPC frame: %s", reason)
        self.rejected_count += 1
        self._respond(conn, encode_reply(request_id, error=reason))

    def _respond(self, conn: _Connection, frame: bytes) -> None:
        """Queue the reply and close once Qt has written it (POSIX) or the client has read it.

        ``disconnectFromServer()`` waits for pending bytes before closing; the
        re-armed timer aborts a client that never reads them.
        """
        conn.buffer.clear()
        if conn.gone:
            return
        conn.timer.start(self._idle_timeout_ms)
        conn.socket.write(frame)
        conn.socket.flush()
        if sys.platform == "win32":
            # Qt closes a server-side pipe with DisconnectNamedPipe, which throws away
            # whatever the client has not read yet: the reply would be lost. The client
            # closes once it has the reply line; the timer ends one that never does.
            return
        conn.socket.disconnectFromServer()

    def _on_timeout(self, conn: _Connection) -> None:
        if conn.gone:
            return
        if conn.closing:
            log.debug("IPC client did not take its reply in time; aborting")
        else:
            log.warning(
                "dropping IPC client: no complete request within %d ms (%d bytes received)",
                self._idle_timeout_ms,
                len(conn.buffer),
            )
            self.timed_out_count += 1
        conn.closing = conn.gone = True
        conn.socket.abort()
        self._forget(conn)

    def _on_disconnected(self, conn: _Connection) -> None:
        if conn.gone:
            self._forget(conn)
            return
        conn.gone = True
        if not conn.closing:
            self._consume(conn)  # a line may have arrived together with the close
        if not conn.closing and conn.buffer:
            log.warning(
                "rejected IPC frame: client closed the connection after %d bytes without a newline",
                len(conn.buffer),
            )
            self.rejected_count += 1
        self._forget(conn)

    def _forget(self, conn: _Connection) -> None:
        if conn not in self._conns:
            return
        self._conns.discard(conn)
        conn.timer.stop()
        conn.socket.deleteLater()

"""The forwarding side: a second launch hands its request to the primary.

A second launch should feel instant, so on POSIX this module does not import
Qt at all: ``QLocalServer`` on Unix is a plain ``AF_UNIX`` stream socket, and
Python's :mod:`socket` talks to it directly. Windows named pipes have no such
shortcut, so there ``QLocalSocket`` is imported lazily and used with its
blocking ``waitFor*`` calls, which need no event loop.

:func:`forward_or_acquire` is the whole second-launch algorithm: forward if a
primary answers, become the primary if the lock is free, otherwise wait a
little for a primary that is still starting.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from aria2_core.errors import IpcError
from aria2_core.ipc_protocol import (
    MAX_FRAME_BYTES,
    FrameError,
    decode_reply,
    encode_request,
    new_request_id,
)

log = logging.getLogger("aria_tray.ipc")

_JITTER_S = (0.030, 0.120)
_MAX_JITTER_S = 0.5  # waiting rounds grow to this, so 200 waiting launches stay cheap
_BUSY_PAUSE_S = (0.005, 0.250)  # first and longest pause before retrying a busy primary
_UNAVAILABLE_ERRNOS = {errno.ENOENT, errno.ECONNREFUSED, errno.ENOTSOCK}
# A full AF_UNIX listen backlog: the primary is there but has not accepted yet.
_BUSY_ERRNOS = {errno.EAGAIN, errno.EWOULDBLOCK}
# A lock holder that is not answering yet but uses CPU is a primary still
# starting (a burst of launches from nothing starves it): each sign of progress
# moves the deadline to at least this far ahead, but never past MAX_WAIT_S.
PROGRESS_GRACE_S = 15.0
MAX_WAIT_S = 120.0
# Once connected, how long to wait for the answer. A primary serving a burst
# of 200 launches on a loaded machine may take this long; a frozen one is
# reported when it passes.
REPLY_TIMEOUT_S = 30.0


class PrimaryUnavailable(IpcError):
    """Nobody is serving the name: no socket, or a refused connection."""


class PrimaryBusy(PrimaryUnavailable):
    """A primary is there but did not take this request: its listen backlog is
    full (EAGAIN), or it closed the connection without answering (at its
    connection cap, or closing its doorbell to quit). Worth retrying; a
    request that got no answer was not acknowledged, so nothing is doubled.
    """


class RequestRejected(IpcError):
    """The primary answered, and its answer was "no": the message says why."""


def send_request(
    server_name: str,
    cmd: str,
    args: dict[str, Any],
    timeout: float = 5.0,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Send one request and return the reply's ``result``.

    Raises :class:`PrimaryUnavailable` when nobody answers the name,
    :class:`RequestRejected` with the primary's own message when it refuses,
    and :class:`IpcError` on a timeout or a garbled reply. ``timeout`` bounds
    the whole exchange, not each step. ``request_id`` sends the same request
    again (the primary journals an ``open`` under it, so it is added once).
    """
    request_id = request_id or new_request_id()
    frame = encode_request(cmd, args, request_id=request_id)
    deadline = time.monotonic() + timeout
    exchange = _exchange_qt if sys.platform == "win32" else _exchange_unix
    pause = _BUSY_PAUSE_S[0]
    while True:
        try:
            line = exchange(server_name, frame, deadline, timeout)
            break
        except PrimaryBusy as exc:
            # Busy is not gone: retry the same request (same id) until the
            # deadline, with growing, jittered pauses so a crowd spreads out.
            if deadline - time.monotonic() <= pause:
                raise
            log.debug("%s; retrying", exc)
            time.sleep(random.uniform(pause, 2 * pause))
            pause = min(2 * pause, _BUSY_PAUSE_S[1])
    try:
        reply = decode_reply(line)
    except FrameError as exc:
        raise IpcError(f"Aria Tray on {server_name} sent a bad reply: {exc.reason}") from None
    if reply.id not in (request_id, ""):
        raise IpcError(f"Aria Tray on {server_name} answered a different request")
    if not reply.ok:
        raise RequestRejected(reply.error)
    return reply.result


def _remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001)


def _timed_out(server_name: str, timeout: float) -> IpcError:
    return IpcError(
        f"Aria Tray on {server_name} did not answer within {timeout:.1f} s; "
        "if it is frozen, end that process and start Aria Tray again"
    )


def _closed(server_name: str) -> PrimaryBusy:
    return PrimaryBusy(f"Aria Tray on {server_name} closed the connection without answering")


def _exchange_unix(server_name: str, frame: bytes, deadline: float, timeout: float) -> bytes:
    """Connect, send ``frame`` and return one reply line, over AF_UNIX."""
    if sys.platform == "win32":
        raise OSError("AF_UNIX sockets are not used on Windows (see _exchange_qt)")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.settimeout(_remaining(deadline))
            sock.connect(server_name)
        except TimeoutError:
            raise _timed_out(server_name, timeout) from None
        except OSError as exc:
            if exc.errno in _UNAVAILABLE_ERRNOS:
                raise PrimaryUnavailable(f"no Aria Tray is listening on {server_name}") from None
            if exc.errno in _BUSY_ERRNOS:
                raise PrimaryBusy(f"Aria Tray on {server_name} is busy (backlog full)") from None
            raise IpcError(f"Cannot connect to Aria Tray on {server_name}: {exc}") from None
        try:
            sock.settimeout(_remaining(deadline))
            sock.sendall(frame)
        except TimeoutError:
            raise _timed_out(server_name, timeout) from None
        except OSError as exc:
            # The primary may have refused early and closed; its reply, if
            # any, is still waiting to be read.
            log.debug("sending to %s failed: %s", server_name, exc)
        buffer = bytearray()
        while b"\n" not in buffer:
            if len(buffer) > MAX_FRAME_BYTES:
                raise IpcError(f"Aria Tray on {server_name} sent an oversized reply")
            try:
                sock.settimeout(_remaining(deadline))
                chunk = sock.recv(65536)
            except TimeoutError:
                raise _timed_out(server_name, timeout) from None
            except OSError as exc:
                if buffer:
                    raise IpcError(f"Connection to {server_name} broke: {exc}") from None
                raise _closed(server_name) from None
            if not chunk:
                if buffer:
                    raise IpcError(f"Aria Tray on {server_name} sent a truncated reply")
                raise _closed(server_name)
            buffer += chunk
        return bytes(buffer[: buffer.index(b"\n") + 1])


WAIT_SLICE_MS = 50


def _exchange_qt(server_name: str, frame: bytes, deadline: float, timeout: float) -> bytes:
    """The same exchange over a Windows named pipe, with ``QLocalSocket``.

    Imported here, not at module level, so that POSIX launches never load Qt.
    """
    from PySide6.QtNetwork import QLocalSocket

    from .win_pipe import server_is_ours

    def ms_left() -> int:
        return max(int(_remaining(deadline) * 1000), 1)

    def slice_ms() -> int:
        # Short waits, repeated until the deadline: a waitFor* that returns false has not
        # always timed out or failed (Qt sets no error then), and under Wine a thread's
        # waitFor* sees pipe I/O complete only when it times out, so one long wait would
        # stall the exchange for all of it. On Windows each returns as soon as I/O is done.
        return min(ms_left(), WAIT_SLICE_MS)

    sock = QLocalSocket()
    try:
        sock.connectToServer(server_name)
        if not sock.waitForConnected(ms_left()):
            error = sock.error()
            if error in (
                QLocalSocket.LocalSocketError.ServerNotFoundError,
                QLocalSocket.LocalSocketError.ConnectionRefusedError,
            ):
                raise PrimaryUnavailable(f"no Aria Tray is listening on {server_name}")
            if error == QLocalSocket.LocalSocketError.SocketTimeoutError:
                raise _timed_out(server_name, timeout)
            if error in (
                QLocalSocket.LocalSocketError.PeerClosedError,
                QLocalSocket.LocalSocketError.ConnectionError,
                QLocalSocket.LocalSocketError.UnknownSocketError,
            ):
                # The pipe is still there but its server end is closing (a primary
                # closing its doorbell to quit; Wine takes a moment to drop the name):
                # not gone yet, so retry until it is, like a closed connection. Nothing
                # was sent. Under Wine a connect in that moment also failed with a
                # Windows error Qt does not know ("Unknown error 676"), and the launch
                # gave up on its link while the app quit (tests/e2e/test_links_kept_e2e.py).
                log.debug("connect to %s failed: %s; retrying", server_name, sock.errorString())
                raise _closed(server_name)
            raise IpcError(f"Cannot connect to Aria Tray on {server_name}: {sock.errorString()}")
        if not server_is_ours(int(sock.socketDescriptor())):
            raise IpcError(
                f"The pipe {server_name} is served by a process of another user; "
                "not sending anything to it"
            )
        connected = QLocalSocket.LocalSocketState.ConnectedState
        sock.write(frame)
        # Closed early (a refused request) ends this loop: its reply is read below.
        while sock.bytesToWrite() > 0 and sock.state() == connected:
            if not sock.waitForBytesWritten(slice_ms()) and time.monotonic() >= deadline:
                raise _timed_out(server_name, timeout)
        buffer = bytearray()
        while b"\n" not in buffer:
            if len(buffer) > MAX_FRAME_BYTES:
                raise IpcError(f"Aria Tray on {server_name} sent an oversized reply")
            if sock.bytesAvailable() > 0:
                buffer += bytes(sock.readAll().data())
                continue
            if sock.state() != connected:
                buffer += bytes(sock.readAll().data())  # whatever came with the close
                break
            if not sock.waitForReadyRead(slice_ms()) and time.monotonic() >= deadline:
                raise _timed_out(server_name, timeout)
        if b"\n" not in buffer:
            if buffer:
                raise IpcError(f"Aria Tray on {server_name} sent a truncated reply")
            raise _closed(server_name)
        return bytes(buffer[: buffer.index(b"\n") + 1])
    finally:
        sock.abort()  # parentless: Python owns it and frees it on return


def forward_or_acquire(
    server_name: str,
    cmd: str,
    args: dict[str, Any],
    try_lock: Callable[[], bool],
    deadline: float = 10.0,
    lock_path: str | os.PathLike[str] | None = None,
    request_id: str | None = None,
) -> dict[str, Any] | None:
    """Forward to the primary, or become it; None means "you are the primary now".

    Each round first tries to forward (the common case: a primary is up).
    If nobody answers, it tries the lock: a free lock means there is no
    primary, so the caller takes over. A held lock with no server behind it
    is a primary still starting (between locking and listening) or one that
    is quitting (it closes its doorbell first), so wait with jitter, to keep
    simultaneous launches from moving in lockstep, and try again until
    ``deadline`` seconds pass. The pauses grow from 30–120 ms to 0.5 s, so a
    crowd of waiting launches does not starve the primary of CPU.

    A lock holder (named in ``lock_path``) that uses CPU between rounds is
    starting on a loaded machine, not frozen: each time it does, the deadline
    moves to at least :data:`PROGRESS_GRACE_S` ahead, never past
    :data:`MAX_WAIT_S`. A frozen or stopped one is reported at ``deadline``. Any other
    failure (a refusal, a garbled reply) is final and raised at once.

    Every round sends the same request (``request_id``, or one made here): a
    primary killed after it journaled an ``open`` but before it answered has
    it on disk under that id, and the caller, become the primary, journals its
    links under the same id, so they are added once.
    """
    request_id = request_id or new_request_id()
    begin = time.monotonic()
    end = begin + deadline
    rounds = 0
    jitter = _JITTER_S
    holder: tuple[int, float] | None = None  # the lock holder's pid and CPU when it last moved
    while True:
        rounds += 1
        try:
            # A primary that accepted the connection is up: give it its full
            # reply time even when the waiting budget is nearly spent.
            budget = max(REPLY_TIMEOUT_S, end - time.monotonic())
            return send_request(server_name, cmd, args, timeout=budget, request_id=request_id)
        except PrimaryUnavailable as exc:
            log.debug("round %d: %s", rounds, exc)
        if try_lock():
            log.debug("no primary answered on %s; this launch is the primary now", server_name)
            return None
        if rounds == 1:  # the first try loads Qt, slow on a loaded machine: not its fault
            end = max(end, time.monotonic() + deadline)
        # CPU is compared with the last time it moved, not the last round: a
        # starved process gains CPU in clock ticks, seconds apart.
        activity = _holder_activity(lock_path)
        if activity is not None:
            pid, cpu, busy = activity
            moved = holder is not None and holder[0] == pid and cpu > holder[1]
            if holder is None or holder[0] != pid or moved:
                holder = (pid, cpu)
            if moved or busy:
                end = max(end, min(time.monotonic() + PROGRESS_GRACE_S, begin + MAX_WAIT_S))
        left = end - time.monotonic()
        if left <= 0:
            raise IpcError(
                f"Another Aria Tray holds the lock but does not answer on {server_name} "
                f"(waited {time.monotonic() - begin:.1f} s, {rounds} attempts). If it is "
                "frozen, end that process and start Aria Tray again."
            )
        time.sleep(min(random.uniform(*jitter), left))
        jitter = (min(jitter[0] * 1.5, _MAX_JITTER_S / 2), min(jitter[1] * 1.5, _MAX_JITTER_S))


def lock_holder_alive(lock_path: str | os.PathLike[str]) -> bool:
    """Whether another live process holds the instance lock (running, waiting or stopped).

    A control command (``--quit``, ``--status``, ``--show``) asks this instead of
    taking the lock: a holder with no doorbell yet is a primary still starting.
    """
    return _lock_holder(lock_path) is not None


def _lock_holder(lock_path: str | os.PathLike[str] | None) -> Any:
    """The live process (``psutil.Process``) named in the lock file, not us; None if none.

    Read without Qt (the file starts with the holder's pid). psutil is
    imported only here, by a launch that found no doorbell.
    """
    if lock_path is None:
        return None
    try:
        with open(lock_path, "rb") as handle:
            pid = int(handle.read(64).split(b"\n", 1)[0])
    except (OSError, ValueError):
        return None
    if pid <= 0 or pid == os.getpid():
        return None
    import psutil

    try:
        proc = psutil.Process(pid)
        return None if proc.status() == psutil.STATUS_ZOMBIE else proc
    except psutil.Error:
        return None


def _holder_activity(
    lock_path: str | os.PathLike[str] | None,
) -> tuple[int, float, bool] | None:
    """The lock holder's pid, CPU seconds, and whether it is running or waiting
    for the disk right now (an fsync on a busy disk is work too); None if unknown
    or stopped (a frozen holder makes no progress)."""
    proc = _lock_holder(lock_path)
    if proc is None:
        return None
    import psutil

    try:
        status = proc.status()
        if status in (psutil.STATUS_STOPPED, psutil.STATUS_ZOMBIE):
            return None
        times = proc.cpu_times()
    except psutil.Error:
        return None
    busy = status in (psutil.STATUS_RUNNING, psutil.STATUS_DISK_SLEEP)
    return int(proc.pid), float(times.user + times.system), busy

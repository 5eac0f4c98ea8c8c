"""A doorbell client below the product's own, for tests that send what it never would.

Garbage frames, half frames, idle connections, floods and a launch that has
not sent its line yet need a client that does not validate or retry: a raw
``AF_UNIX`` socket on POSIX, and on Windows the named pipe opened as a file
with ``_winapi`` (what ``CreateFile`` gives any program of the user), so the
same test runs on both.
"""

from __future__ import annotations

import json
import socket
import sys
import time

WINDOWS = sys.platform == "win32"
#: ERROR_PIPE_NOT_CONNECTED: the server dropped this end of the pipe.
_ERROR_PIPE_NOT_CONNECTED = 233


class RawClient:
    """One connection to the server ``name`` (a socket path, or a pipe name on Windows).

    ``recv`` gives b"" once the server has closed the connection.
    """

    def __init__(self, name: str, timeout_s: float = 20.0) -> None:
        if WINDOWS:
            import _winapi

            deadline = time.monotonic() + timeout_s
            while True:  # every pipe instance busy: wait for the next one
                try:
                    self.pipe = _winapi.CreateFile(
                        rf"\\.\pipe\{name}",
                        _winapi.GENERIC_READ | _winapi.GENERIC_WRITE,
                        0,
                        _winapi.NULL,
                        _winapi.OPEN_EXISTING,
                        0,
                        _winapi.NULL,
                    )
                    break
                except OSError as exc:
                    if exc.winerror != _winapi.ERROR_PIPE_BUSY:
                        raise
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"pipe {name} stayed busy") from exc
                    time.sleep(0.05)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout_s)
            self.sock.connect(name)

    def send(self, data: bytes) -> None:
        if WINDOWS:
            import _winapi

            view = memoryview(data)
            while view:
                written, _ = _winapi.WriteFile(self.pipe, view[:65536])
                view = view[written:]
        else:
            self.sock.sendall(data)

    def recv(self, size: int) -> bytes:
        if not WINDOWS:
            try:
                return self.sock.recv(size)
            except ConnectionResetError:
                return b""
        import _winapi

        try:
            return _winapi.ReadFile(self.pipe, size)[0]
        except OSError as exc:
            if exc.winerror in (_winapi.ERROR_BROKEN_PIPE, _ERROR_PIPE_NOT_CONNECTED):
                return b""
            raise

    def read_line(self) -> bytes:
        """Everything up to and including the first newline (less if the server closed)."""
        data = b""
        while b"\n" not in data and (chunk := self.recv(65536)):
            data += chunk
        return data

    def close(self) -> None:
        if WINDOWS:
            import _winapi

            _winapi.CloseHandle(self.pipe)
        else:
            self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def raw_exchange(name: str, payload: bytes, *, read_reply: bool = True) -> dict | None:
    """Send raw bytes; return the decoded reply, or None if none came."""
    data = b""
    with RawClient(name) as client:
        try:
            client.send(payload)
        except OSError:
            pass  # the server stopped reading an oversized frame and closed
        if read_reply:
            data = client.read_line()
    return json.loads(data) if b"\n" in data else None

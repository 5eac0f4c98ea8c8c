"""A doorbell client below the product's own, for tests that send what it never would.

Garbage frames, half frames, idle connections and floods need a client that
does not validate or retry: a raw ``AF_UNIX`` socket on POSIX, and on Windows
the named pipe opened as a file with ``_winapi`` (what ``CreateFile`` gives
any program of the user).
"""

from __future__ import annotations

import json
import socket
import sys
import time

WINDOWS = sys.platform == "win32"


class RawClient:
    """A client below the product's own: a raw AF_UNIX socket, or on Windows the named
    pipe opened as a file. ``recv`` gives b"" once the server has closed the connection."""

    def __init__(self, name: str) -> None:
        if WINDOWS:
            import _winapi

            for _ in range(200):  # every pipe instance busy: wait for the next one
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
                    time.sleep(0.05)
            else:
                raise TimeoutError(f"pipe {name} stayed busy")
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(20)
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
            # ERROR_BROKEN_PIPE: closed; ERROR_PIPE_NOT_CONNECTED: dropped by the server.
            if exc.winerror in (_winapi.ERROR_BROKEN_PIPE, 233):
                return b""
            raise

    def close(self) -> None:
        if WINDOWS:
            import _winapi

            _winapi.CloseHandle(self.pipe)
        else:
            self.sock.close()


def raw_exchange(name: str, payload: bytes, *, read_reply: bool = True) -> dict | None:
    """Send raw bytes; return the decoded reply, or None if none came."""
    data = b""
    client = RawClient(name)
    try:
        try:
            client.send(payload)
        except OSError:
            pass  # the server stopped reading an oversized frame and closed
        while read_reply and b"\n" not in data and (chunk := client.recv(65536)):
            data += chunk
    finally:
        client.close()
    return json.loads(data) if b"\n" in data else None

"""A private IPC world for the single-instance tests: a short socket path, servers, locks,
processes, and a handler that records what it was asked.

Shared by ``test_single_instance.py`` (the doorbell and the second-launch algorithm)
and ``test_instance_lock.py`` (the mutex).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aria2_core.ipc_protocol import Request
from desktop.instance_lock import InstanceLock
from desktop.ipc_client import send_request
from desktop.single_instance import IpcServer

WINDOWS = sys.platform == "win32"
T = TypeVar("T")
WAIT_MS = 30_000


class Recorder:
    """A handler that records requests and answers like a small primary."""

    def __init__(self) -> None:
        self.calls: list[Request] = []

    def __call__(self, request: Request) -> dict[str, Any]:
        self.calls.append(request)
        if request.cmd == "open":
            return {"accepted": len(request.args["items"])}
        if request.cmd == "quit":
            raise RuntimeError("refusing to quit during a test")
        return {"pid": os.getpid(), "cmd": request.cmd}


class World:
    """One test's private app home: a short socket path, servers, locks, processes.

    Teardown closes every server, releases every lock and kills every
    subprocess by PID, whatever the test did.
    """

    def __init__(self, qtbot: Any) -> None:
        self.qtbot = qtbot
        self.dir = Path(tempfile.mkdtemp(prefix="at-"))  # AF_UNIX paths: ~100 bytes max
        # The server name: a socket path on POSIX, a pipe name (\\.\pipe\...) on Windows.
        self.sock = f"aria-tray-test-{self.dir.name}" if WINDOWS else str(self.dir / "ipc.sock")
        self.lock_path = self.dir / "instance.lock"
        self.recorder = Recorder()
        self.servers: list[IpcServer] = []
        self.locks: list[InstanceLock] = []
        self.procs: list[subprocess.Popen] = []

    def server(self, *, listen: bool = True, idle_timeout_ms: int = 5000) -> IpcServer:
        self.servers.append(IpcServer(self.sock, self.recorder, idle_timeout_ms=idle_timeout_ms))
        if listen:
            self.servers[-1].listen()
        return self.servers[-1]

    def lock(self) -> InstanceLock:
        self.locks.append(InstanceLock(self.lock_path))
        return self.locks[-1]

    def spawn(self, code: str, *args: str, **kwargs: Any) -> subprocess.Popen:
        self.procs.append(subprocess.Popen([sys.executable, "-c", code, *args], **kwargs))
        return self.procs[-1]

    def run(self, fn: Callable[[], T], timeout_ms: int = WAIT_MS) -> T:
        """Run a blocking client in a thread while the Qt loop serves it."""
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = fn()
            except BaseException as exc:
                box["error"] = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self.qtbot.waitUntil(lambda: not thread.is_alive(), timeout=timeout_ms)
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["result"]

    def send(self, cmd: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.run(lambda: send_request(self.sock, cmd, args or {}))

    def idle(self, server: IpcServer) -> None:
        self.qtbot.waitUntil(lambda: server.active_connections == 0, timeout=WAIT_MS)

    def close(self) -> None:
        for server in self.servers:
            server.close()
            server.deleteLater()
        for lock in self.locks:
            lock.release()
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)

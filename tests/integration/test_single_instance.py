"""Single instance, end to end: a real QLocalServer, real sockets, real processes.

The server runs on the test's Qt event loop (driven by ``qtbot.waitUntil``);
clients run in a thread or a subprocess, exactly as a second launch would.
Fixtures release every lock, close every server and kill every subprocess by
PID, whatever the test did.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QLockFile, QSysInfo, QTimer

from aria2_core.errors import IpcError
from aria2_core.ipc_protocol import Request
from desktop.instance_lock import InstanceLock
from desktop.ipc_client import PrimaryUnavailable, RequestRejected, forward_or_acquire, send_request
from desktop.single_instance import IpcServer
from support.programs import kill_hard
from support.raw_ipc import RawClient, raw_exchange
from support.wine import wine_limit

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


@pytest.fixture
def w(qtbot: Any) -> Iterator[World]:
    world = World(qtbot)
    yield world
    world.close()


def ipc_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    records = caplog.records
    return [r.getMessage() for r in records if r.name == "aria_tray.ipc" and r.levelno == 30]


# -- the server and the Python client -------------------------------------


def test_open_and_status_round_trip(w: World) -> None:
    server = w.server()
    if not WINDOWS:  # a pipe has no mode bits; who may open it: tests of desktop/win_pipe.py
        assert stat.S_IMODE(os.stat(w.sock).st_mode) == 0o600
    items = ["https://example.org/a.iso", "magnet:?xt=urn:btih:abc", "/home/u/x.torrent"]
    assert w.send("open", {"items": items, "cwd": "/"}) == {"accepted": 3}
    assert w.send("status") == {"pid": os.getpid(), "cmd": "status"}
    calls = [(c.cmd, c.args) for c in w.recorder.calls]
    assert calls == [("open", {"items": items, "cwd": "/"}), ("status", {})]
    assert server.served_count == 2
    w.idle(server)


def test_handler_exception_becomes_error_reply(w: World, caplog: pytest.LogCaptureFixture) -> None:
    w.server()
    with pytest.raises(RequestRejected, match="refusing to quit during a test"):
        w.send("quit")
    failures = [r for r in caplog.records if r.name == "aria_tray.ipc" and r.exc_info]
    assert failures and "quit" in failures[0].getMessage()
    assert w.send("show")["cmd"] == "show"


def test_forwarding_launch_in_a_subprocess_needs_no_qt(w: World) -> None:
    w.server()
    code = (
        "import json, sys\n"
        "from desktop.ipc_client import send_request\n"
        "r = send_request(sys.argv[1], 'open', {'items': ['https://x.example/f'], 'cwd': '/'})\n"
        "qt = any(m.startswith('PySide6') for m in sys.modules)\n"
        "print(json.dumps({'result': r, 'qt': qt}))\n"
    )
    proc = w.spawn(code, w.sock, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    w.qtbot.waitUntil(lambda: proc.poll() is not None, timeout=WAIT_MS)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    # POSIX: a plain socket, no Qt. Windows: QLocalSocket, the one client for a named pipe.
    assert json.loads(out) == {"result": {"accepted": 1}, "qt": WINDOWS}
    assert w.recorder.calls[0].args["items"] == ["https://x.example/f"]


@wine_limit(
    "Wine 8 reports Qt's overlapped pipe I/O late (a blocking waitFor* wakes at its "
    "timeout), so 20 client threads at once outlast the 5 s budget"
)
def test_many_clients_at_once(w: World) -> None:
    server = w.server()

    def burst() -> list[dict]:
        with ThreadPoolExecutor(20) as pool:
            return list(pool.map(lambda _: send_request(w.sock, "status", {}), range(20)))

    assert len(w.run(burst)) == 20
    w.idle(server)


def frame(**obj: object) -> bytes:
    return json.dumps({"v": 1, "id": "a", **obj}).encode() + b"\n"


# (payload, expected reason in the reply or None, whether to read a reply)
BAD_FRAMES: list[tuple[bytes, str | None, bool]] = [
    (b"\x00\x01\x02 garbage \x7f\n", "not valid JSON", True),
    (b"\xff\xfe\xfd\xfc\n", "not valid UTF-8", True),
    (b"[1, 2, 3]\n", "must be a JSON object", True),
    (frame(v=3, cmd="show", args={}), "unsupported protocol version 3", True),
    (frame(cmd="format-disk", args={}), "unknown command", True),
    (frame(cmd="open", args={"items": 5, "cwd": ""}), "'items'", True),
    (b"x" * (2 * 1024 * 1024) + b"\n", None, True),  # oversized; its reply may be lost
    (b'{"v": 1, "id": "a", "cmd": "sh', None, False),  # no newline, then close
    (b"\n", "empty request", True),
    (b"[" * 50_000 + b"\n", "nested too deeply", True),
]


def test_200_malformed_frames_are_logged_and_serving_continues(
    w: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aria_tray.ipc")
    server = w.server()
    plan = [BAD_FRAMES[n % len(BAD_FRAMES)] for n in range(200)]
    replies = w.run(lambda: [raw_exchange(w.sock, d, read_reply=r) for d, _, r in plan], 120_000)
    w.qtbot.waitUntil(lambda: len(ipc_warnings(caplog)) >= 200, timeout=WAIT_MS)
    assert len(ipc_warnings(caplog)) == 200 == server.rejected_count
    assert all(m.startswith("rejected IPC frame: ") for m in ipc_warnings(caplog))
    # Refused before its newline arrived ("exceeds"), or with it in the same read (Windows
    # pipes often hand over the whole 2 MiB at once): either way, refused for its size.
    oversized = ("exceeds 1048576 bytes", "over the 1048576-byte limit")
    assert sum(any(s in m for s in oversized) for m in ipc_warnings(caplog)) == 20
    for (data, reason, _), reply in zip(plan, replies, strict=True):
        if reason is not None:
            assert reply is not None and reply["ok"] is False, data[:40]
            assert reason in reply["error"] and reply["v"] == 1
        elif reply is not None:  # the oversized frame, when its reply arrived
            told = (*oversized, "without a newline")
            assert reply["ok"] is False and any(o in reply["error"] for o in told)
    assert w.send("status")["cmd"] == "status"
    w.idle(server)


def test_silent_client_is_dropped_after_idle_timeout(
    w: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aria_tray.ipc")
    server = w.server(idle_timeout_ms=1000)

    def silent_then_valid() -> tuple[dict, bytes]:
        idle = RawClient(w.sock)
        try:
            served = send_request(w.sock, "status", {})  # while the silent one is open
            return served, idle.recv(1)  # b"" once the server drops it
        finally:
            idle.close()

    served, tail = w.run(silent_then_valid)
    assert served["cmd"] == "status" and tail == b""
    assert server.timed_out_count == 1
    assert any("no complete request within 1000 ms" in m for m in ipc_warnings(caplog))
    w.idle(server)


def test_stale_socket_file_does_not_stop_listen(w: World) -> None:
    # What a crash leaves behind: a server killed outright (POSIX: its socket file stays).
    code = (
        "import sys\n"
        "from PySide6.QtNetwork import QLocalServer\n"
        "server = QLocalServer()\n"
        "print('listening' if server.listen(sys.argv[1]) else 'failed', flush=True)\n"
        "sys.stdin.read()\n"
    )
    opts: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    crashed = w.spawn(code, w.sock, **opts)
    assert crashed.stdout.readline().strip() == "listening"
    kill_hard(crashed.pid)
    crashed.wait(timeout=30)
    if not WINDOWS:  # a named pipe ends with its last handle
        assert stat.S_ISSOCK(os.stat(w.sock).st_mode)
    with pytest.raises(PrimaryUnavailable):
        send_request(w.sock, "status", {})
    server = w.server()
    assert w.send("status")["cmd"] == "status"
    server.close()
    server.close()  # idempotent
    assert WINDOWS or not os.path.exists(w.sock)
    with pytest.raises(PrimaryUnavailable):
        send_request(w.sock, "status", {})


def test_client_refuses_oversized_requests_before_connecting(w: World) -> None:
    with pytest.raises(IpcError, match="more than the limit"):
        send_request(w.sock, "open", {"items": ["a"] * 10_001, "cwd": ""})


# -- the instance lock ----------------------------------------------------


def test_two_lock_objects_in_one_process_exclude_each_other(w: World) -> None:
    first, second = w.lock(), w.lock()
    assert first.try_acquire() and first.is_held
    assert first.try_acquire()  # already ours
    assert not second.try_acquire() and not second.is_held
    assert second.holder_pid() == os.getpid()
    raw = QLockFile(str(w.lock_path))
    assert not raw.tryLock(0)
    assert not raw.removeStaleLockFile()  # the flock is per object: it refuses
    first.release()
    first.release()  # idempotent
    assert second.try_acquire()


def test_lock_held_by_a_live_process_then_killed(w: World) -> None:
    code = (
        "import sys\n"
        "from PySide6.QtCore import QLockFile\n"
        "lock = QLockFile(sys.argv[1]); lock.setStaleLockTime(0)\n"
        "print('locked' if lock.tryLock(0) else 'failed', flush=True)\n"
        "sys.stdin.read()\n"
    )
    opts: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    holder = w.spawn(code, str(w.lock_path), **opts)
    assert holder.stdout.readline().strip() == "locked"
    ours = w.lock()
    assert not ours.try_acquire()
    assert ours.holder_pid() == holder.pid
    assert not QLockFile(str(w.lock_path)).removeStaleLockFile()
    kill_hard(holder.pid)  # no chance to unlock
    holder.wait(timeout=30)
    assert ours.try_acquire()
    assert ours.holder_pid() == os.getpid()


def qt_lock_text(pid: int) -> bytes:
    """A lock file in Qt 6's own format naming ``pid`` as a Python process."""
    # The name Qt finds for a pid: the executable's base name (without .exe on Windows).
    app = (
        Path(sys.executable).stem
        if WINDOWS
        else f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )
    host = QSysInfo.machineHostName()
    machine = bytes(QSysInfo.machineUniqueId().data()).decode()
    boot = bytes(QSysInfo.bootUniqueId().data()).decode()
    return f"{pid}\n{app}\n{host}\n{machine}\n{boot}\n".encode()


@pytest.mark.parametrize("kind", ["empty", "garbage", "foreign-live-pid"])
def test_broken_lock_files_are_recovered(
    w: World, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aria_tray.ipc")
    if kind == "empty":
        w.lock_path.write_bytes(b"")
    elif kind == "garbage":
        w.lock_path.write_bytes(b"\x00\xffnot a lock file\n\n\n")
    else:  # a dead primary's PID, reused by an unrelated live Python process
        w.lock_path.write_bytes(qt_lock_text(w.spawn("import time; time.sleep(120)").pid))
    aged = time.time() - 10  # left behind by a crash, not being written right now
    os.utime(w.lock_path, (aged, aged))
    raw = QLockFile(str(w.lock_path))
    raw.setStaleLockTime(0)
    assert not raw.tryLock(0)  # Qt alone would wait on this file forever
    lock = w.lock()
    assert lock.try_acquire()
    assert lock.holder_pid() == os.getpid()
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("recovered a stale" in m for m in infos)


def test_fresh_unreadable_lock_file_is_left_alone_until_it_ages(w: World) -> None:
    """An empty, brand-new lock file may be a winner between create and lock."""
    w.lock_path.write_bytes(b"")
    lock = w.lock()
    assert not lock.try_acquire()
    assert w.lock_path.exists()
    aged = time.time() - 10
    os.utime(w.lock_path, (aged, aged))
    assert lock.try_acquire()


def test_lock_in_missing_folder_is_a_clear_error(w: World) -> None:
    with pytest.raises(IpcError, match="exists and is writable"):
        InstanceLock(w.dir / "missing" / "instance.lock").try_acquire()


# -- the second-launch algorithm ------------------------------------------


def test_forward_or_acquire_takes_a_free_lock(w: World) -> None:
    lock = w.lock()
    assert forward_or_acquire(w.sock, "show", {}, lock.try_acquire, deadline=5) is None
    assert lock.is_held


def test_forward_or_acquire_forwards_to_a_live_primary(w: World) -> None:
    primary, second = w.lock(), w.lock()
    assert primary.try_acquire()
    w.server()
    args = {"items": ["https://example.org/f"], "cwd": "/"}
    result = w.run(lambda: forward_or_acquire(w.sock, "open", args, second.try_acquire))
    assert result == {"accepted": 1}
    assert not second.is_held
    with pytest.raises(RequestRejected, match="refusing to quit"):
        w.run(lambda: forward_or_acquire(w.sock, "quit", {}, second.try_acquire))


def test_forward_or_acquire_waits_for_a_primary_still_starting(w: World) -> None:
    primary, second = w.lock(), w.lock()
    assert primary.try_acquire()  # locked, but not listening yet
    server = w.server(listen=False)
    QTimer.singleShot(500, server.listen)
    args = {"items": ["magnet:?xt=urn:btih:late"], "cwd": "/"}
    result = w.run(lambda: forward_or_acquire(w.sock, "open", args, second.try_acquire))
    assert result == {"accepted": 1}
    assert w.recorder.calls[0].args == args


def test_forward_or_acquire_gives_up_on_a_silent_lock_holder(w: World) -> None:
    primary, second = w.lock(), w.lock()
    assert primary.try_acquire()
    with pytest.raises(IpcError, match="holds the lock but does not answer on") as info:
        forward_or_acquire(w.sock, "show", {}, second.try_acquire, deadline=0.3)
    assert not isinstance(info.value, PrimaryUnavailable)


@wine_limit(
    "Wine 8 reports Qt's overlapped pipe I/O late (a blocking waitFor* wakes at its "
    "timeout), so a burst of client threads outlasts the test's wait"
)
def test_clients_retry_a_full_backlog_instead_of_failing(w: World) -> None:
    """issue 8, item 1: EAGAIN on connect means "busy", not "gone".

    The GUI thread is kept from accepting for a moment (as a primary busy
    serving a burst is) while 150 clients connect: the backlog fills, and
    every client must still get its answer.
    """
    server = w.server()
    with ThreadPoolExecutor(150) as pool:
        futures = [pool.submit(send_request, w.sock, "status", {}, 20.0) for _ in range(150)]
        time.sleep(1.5)  # the event loop does not run: nothing is accepted meanwhile
        w.qtbot.waitUntil(lambda: all(f.done() for f in futures), timeout=WAIT_MS)
        results = [f.result() for f in futures]
    assert len(results) == 150
    w.idle(server)


def test_connections_over_the_cap_are_closed_and_their_clients_retry(w: World) -> None:
    """issue 8, item 6: a flood cannot take all our file descriptors (on Windows, pipe handles)."""
    server = w.server()
    server_cap = IpcServer(w.sock + "2", w.recorder, max_connections=4)
    w.servers.append(server_cap)
    server_cap.listen()
    silent: list[RawClient] = []

    def flood() -> None:  # in a thread: a pipe server makes each next instance in its loop
        for _ in range(10):
            silent.append(RawClient(w.sock + "2"))

    try:
        w.run(flood)
        w.qtbot.waitUntil(lambda: server_cap.refused_count >= 6, timeout=WAIT_MS)
        assert server_cap.active_connections == 4
    finally:
        for conn in silent:
            conn.close()
    w.qtbot.waitUntil(lambda: server_cap.active_connections == 0, timeout=WAIT_MS)
    assert w.run(lambda: send_request(w.sock + "2", "status", {}))["cmd"] == "status"
    w.idle(server)


@pytest.mark.skipif(WINDOWS, reason="a named pipe has no socket file anyone could remove")
def test_server_listens_again_when_its_socket_is_removed(w: World) -> None:
    """issue 8, item 6: QLocalServer closes itself on EMFILE and says nothing."""
    server = w.server()
    os.unlink(w.sock)
    w.qtbot.waitUntil(lambda: server.relisten_count == 1, timeout=WAIT_MS)
    assert w.send("status")["cmd"] == "status"

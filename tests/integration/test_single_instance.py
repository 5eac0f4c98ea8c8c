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
import stat
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QTimer

from aria2_core.errors import IpcError
from desktop.ipc_client import PrimaryUnavailable, RequestRejected, forward_or_acquire, send_request
from desktop.single_instance import IpcServer
from support.ipc_world import WAIT_MS, WINDOWS, World
from support.platforms import only_on
from support.programs import kill_hard
from support.raw_ipc import RawClient, raw_exchange
from support.wine import wine_limit


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


@only_on("posix", "the doorbell's socket file (a named pipe has none)")
def test_server_listens_again_when_its_socket_is_removed(w: World) -> None:
    """issue 8, item 6: QLocalServer closes itself on EMFILE and says nothing."""
    server = w.server()
    os.unlink(w.sock)
    w.qtbot.waitUntil(lambda: server.relisten_count == 1, timeout=WAIT_MS)
    assert w.send("status")["cmd"] == "status"

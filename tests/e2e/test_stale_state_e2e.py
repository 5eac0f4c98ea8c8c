"""Leftovers of a crash, or a busy port, never block a normal start.

Acceptance item: an empty lock file, a garbage lock file, a stale socket
path (a regular file, or a dead AF_UNIX socket) and a busy RPC port each
still give a ready app with one aria2c, without hanging. Two extra cases: a
lock naming a live, unrelated PID (PID reuse), and a port busy on both
loopback families, so aria2c exits 1 instead of running on ::1 alone.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

import pytest
from e2e_support import counts, start_primary

from aria2_core.paths import AppPaths
from aria2_core.ports import pick_free_port
from support.app_process import AppHome

pytestmark = pytest.mark.e2e

READY_TIMEOUT_S = 20.0  # "no hang": a bounded wait, far above a normal start


def _lock_path(home: AppHome) -> str:
    return str(AppPaths.for_home(home.home).lock_file)


def _socket_path(home: AppHome) -> str:
    name = AppPaths.for_home(home.home).server_name
    assert name.startswith(str(home.home)), name  # short test homes keep it inside
    return name


@contextmanager
def empty_lock(home: AppHome) -> Iterator[None]:
    open(_lock_path(home), "wb").close()
    yield


@contextmanager
def garbage_lock(home: AppHome) -> Iterator[None]:
    with open(_lock_path(home), "wb") as out:
        out.write(b"\xff\xfe not a lock \x00\n-17\n\n\x01")
    yield


@contextmanager
def lock_naming_live_pid(home: AppHome) -> Iterator[None]:
    # This pytest process is alive and is a python3 on this host: PID reuse.
    with open(_lock_path(home), "w") as out:
        out.write(f"{os.getpid()}\naria-tray\n{socket.gethostname()}\n")
    yield


@contextmanager
def socket_path_is_a_file(home: AppHome) -> Iterator[None]:
    with open(_socket_path(home), "w") as out:
        out.write("left behind\n")
    yield


@contextmanager
def dead_unix_socket(home: AppHome) -> Iterator[None]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(_socket_path(home))
    sock.listen()
    sock.close()  # the path stays; nobody answers it any more
    yield


def _listen(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, port))
    sock.listen()
    return sock


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        _listen(socket.AF_INET6, "::1", 0).close()
    except OSError:
        return False
    return True


@contextmanager
def busy_rpc_port_ipv4(home: AppHome) -> Iterator[None]:
    with _listen(socket.AF_INET, "127.0.0.1", 0) as sock:
        home.extra_env["ARIA_TRAY_RPC_PORT"] = str(sock.getsockname()[1])
        yield


@contextmanager
def busy_rpc_port_both_families(home: AppHome) -> Iterator[None]:
    if not _has_ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    with ExitStack() as stack:
        for _ in range(20):  # find a port free on both 127.0.0.1 and ::1
            port = pick_free_port()
            try:
                v6 = _listen(socket.AF_INET6, "::1", port)
            except OSError:
                continue
            stack.enter_context(v6)
            stack.enter_context(_listen(socket.AF_INET, "127.0.0.1", port))
            break
        else:
            pytest.fail("no port free on both loopback families")
        home.extra_env["ARIA_TRAY_RPC_PORT"] = str(port)
        yield


CASES: dict[str, Callable[[AppHome], AbstractContextManager[None]]] = {
    "empty-lock": empty_lock,
    "garbage-lock": garbage_lock,
    "lock-naming-live-pid": lock_naming_live_pid,
    "busy-rpc-port": busy_rpc_port_ipv4,
    "busy-rpc-port-ipv4-and-ipv6": busy_rpc_port_both_families,
}
if os.name == "posix":  # a Windows pipe leaves no file behind: nothing stale to trip on
    CASES["socket-path-is-a-file"] = socket_path_is_a_file
    CASES["dead-unix-socket"] = dead_unix_socket


@pytest.mark.parametrize("case", list(CASES))
def test_normal_start_despite(app_home: AppHome, case: str) -> None:
    AppPaths.for_home(app_home.home).ensure()
    with CASES[case](app_home):
        busy = app_home.extra_env.get("ARIA_TRAY_RPC_PORT")
        primary, status = start_primary(app_home, timeout=READY_TIMEOUT_S)

        assert counts(app_home) == (1, 1)
        assert [p.pid for p in app_home.primary_processes()] == [primary.pid]
        if busy:
            assert status["port"] != int(busy)
            assert "retrying on another port" in app_home.log_text()
        # The IPC doorbell works again: a second launch is answered, not blocked.
        second = app_home.run(timeout=30)
        assert second.returncode == 0, second.stderr
        assert counts(app_home) == (1, 1)


def test_temporaries_a_killed_write_left_are_swept_at_start(app_home: AppHome) -> None:
    """A SIGKILL between write_atomic's mkstemp and its rename leaves ``.<name>.<rnd>.tmp``.

    Nothing else ever removes one, so every crash mid-write would leave a file
    (one may hold a copy of the RPC secret) in the home for good. The next
    primary sweeps those old enough that no writer can still be at work, and
    nothing else: not a fresh one, not a file of the user's.
    """
    paths = AppPaths.for_home(app_home.home)
    paths.ensure()
    paths.metadata_dir.mkdir(parents=True, exist_ok=True)
    an_hour_ago = time.time() - 3600
    stale = [
        paths.home / ".history.json.k3j_9x2a.tmp",
        paths.engine_dir / ".aria2.conf.zz81mq0p.tmp",
        paths.engine_dir / ".owned-aria2c.json.a1b2c3d4.tmp",
        paths.metadata_dir / ".0f3c.torrent.qqqqqqqq.tmp",
    ]
    kept = [
        paths.home / "notes.tmp",  # not a name write_atomic makes
        paths.engine_dir / ".session.txt.not-ours.tmp",
        paths.home / ".history.json.fresh123.tmp",  # young: a writer may be at it
    ]
    for path in stale + kept:
        path.write_bytes(b"rpc-secret=left behind\n")
    for path in stale + kept[:2]:
        os.utime(path, (an_hour_ago, an_hour_ago))

    start_primary(app_home, timeout=READY_TIMEOUT_S)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while any(p.exists() for p in stale) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.name for p in stale if p.exists()] == []
    assert [p.name for p in kept if not p.exists()] == []
    assert counts(app_home) == (1, 1)

"""The doorbell (the primary's IPC socket) under abuse (issue 8, items 6, 14 and "Also").

* 1,100 connections at once used to exhaust a 1,024 soft fd limit: ``accept()``
  failed with EMFILE, ``QLocalServer`` closed itself and deleted its socket,
  and ``--status`` said "not running" while the app and its aria2c ran on;
* the ``$XDG_RUNTIME_DIR`` fallback socket folder, pre-created by another
  user, was used as it was;
* an ``open`` with no items passed validation and raised in the journal.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from e2e_support import counts, reached_aria2, start_primary

from aria2_core.paths import AppPaths
from support.app_process import AppHome, short_home, wait_until
from support.http_server import PayloadFactory
from support.platforms import only_on
from support.raw_ipc import raw_exchange

pytestmark = pytest.mark.e2e
# The fd limit, the AF_UNIX backlog and $XDG_RUNTIME_DIR are POSIX's; a Windows pipe has
# none of them (its connection cap is tested in tests/integration/test_single_instance.py).
fd_limit = only_on("posix", "the open-files limit (RLIMIT_NOFILE) the doorbell lives within")
runtime_dir = only_on("linux", "$XDG_RUNTIME_DIR, where a deep home's socket goes")


def _low_fd_limit() -> None:
    """Runs in the child: the soft limit a desktop session often gives programs."""
    import resource  # POSIX only: imported where the module is not skipped

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))


@fd_limit
def test_a_flood_of_connections_does_not_kill_the_doorbell(
    app_home: AppHome, payload_factory: PayloadFactory
) -> None:
    primary = app_home.launch(preexec_fn=_low_fd_limit)
    status = app_home.wait_ready(30)
    assert status["app_pid"] == primary.pid
    sock_path = str(app_home.home / "ipc.sock")
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2000:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    held: list[socket.socket] = []
    try:
        while len(held) < 1100:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                conn.connect(sock_path)  # blocking: a full backlog waits here
            except FileNotFoundError:
                conn.close()
                break  # the doorbell is gone (what used to happen near 1,000)
            except OSError:
                conn.close()
                continue
            held.append(conn)
    finally:
        for conn in held:
            conn.close()

    result = app_home.run("--status")
    assert result.returncode == 0, result.stderr
    after = json.loads(result.stdout)
    assert after.get("running") is True and after["app_pid"] == primary.pid, after
    url = payload_factory("after-flood.bin", 2048).url
    assert app_home.run(url).returncode == 0
    wait_until(lambda: url in reached_aria2(app_home), 30)
    assert counts(app_home) == (1, 1)
    assert "stopped" not in app_home.log_text() or "listening again" in app_home.log_text()


def _long_home(base: Path) -> Path:
    """An app home whose socket path is too long for AF_UNIX (the fallback is used)."""
    home = base / ("h" * 60) / ("o" * 60)
    home.mkdir(parents=True)
    return home


@runtime_dir
def test_a_runtime_socket_folder_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a folder owned by another user needs root")
    runtime = short_home("at-run-")
    try:
        planted = runtime / "aria-tray"
        planted.mkdir(mode=0o777)
        os.chmod(planted, 0o777)
        os.chown(planted, 65534, 65534)  # nobody
        home = AppHome(_long_home(tmp_path), tmp_path)
        home.extra_env["XDG_RUNTIME_DIR"] = str(runtime)
        try:
            proc = home.launch()
            wait_until(lambda: proc.poll() is not None or home.aria2c_processes(), 30)
            assert proc.poll() == 1, "it started with a socket folder of another user"
            stderr = proc.stderr.read().decode() if proc.stderr else ""
            assert str(planted) in stderr and "another user" in stderr, stderr
            assert list(planted.iterdir()) == []  # no socket left in it
            assert counts(home) == (0, 0)
        finally:
            home.kill_everything()
    finally:
        subprocess.run(["rm", "-rf", str(runtime)], check=False)


@runtime_dir
def test_a_runtime_socket_folder_of_ours_is_made_private(tmp_path: Path) -> None:
    runtime = short_home("at-run-")
    try:
        ours = runtime / "aria-tray"
        ours.mkdir()
        os.chmod(ours, 0o755)
        home = AppHome(_long_home(tmp_path), tmp_path)
        home.extra_env["XDG_RUNTIME_DIR"] = str(runtime)
        try:
            proc = home.launch()
            status = home.wait_ready(30)
            assert status["app_pid"] == proc.pid
            assert oct(ours.stat().st_mode & 0o777) == oct(0o700)
            assert any(p.suffix == ".sock" for p in ours.iterdir())
            assert home.run("--quit").returncode == 0
        finally:
            home.kill_everything()
    finally:
        subprocess.run(["rm", "-rf", str(runtime)], check=False)


def test_an_open_with_no_items_is_refused_as_malformed(app_home: AppHome) -> None:
    start_primary(app_home)
    frame = json.dumps({"v": 1, "id": "empty", "cmd": "open", "args": {"items": [], "cwd": "/"}})
    reply = raw_exchange(AppPaths.for_home(app_home.home).server_name, frame.encode() + b"\n")
    assert reply is not None, "no reply"
    assert reply["ok"] is False and "'items' is empty" in reply["error"], reply
    log = app_home.log_text()
    assert "rejected IPC frame" in log
    assert "IPC handler failed" not in log and "Traceback" not in log

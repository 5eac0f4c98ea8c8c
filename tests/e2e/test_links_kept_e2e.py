"""Links that used to be lost or refused at the edges (issue 8, items 2, 3, 5).

* a link sent while the app quits: the launch waits for the lock and
  becomes the next primary (or the link is journaled), never refused;
* a ``.torrent`` deleted by the browser right after it was acknowledged;
* a drain that timed out: retried with backoff, and what aria2 took before
  the timeout is not sent again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from e2e_support import counts, history_records, reached_aria2, start_primary

from support.app_process import AppHome, wait_until
from support.fixture_files import multi_file_torrent
from support.http_server import PayloadFactory
from support.programs import WINDOWS, freeze, kill_hard, thaw

pytestmark = pytest.mark.e2e


def _stderr(proc: subprocess.Popen[bytes]) -> str:
    return proc.stderr.read().decode(errors="replace") if proc.stderr else ""


def _status(home: AppHome) -> dict:
    result = home.run("--status", timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_links_sent_while_the_app_quits_are_never_refused(
    app_home: AppHome, payload_factory: PayloadFactory
) -> None:
    primary, status = start_primary(app_home)
    urls = [payload_factory(f"late-{n}.bin", 2048).url for n in range(12)]

    # A frozen aria2c makes the shutdown last its full grace period (save
    # times out, then the kill timer), so every launch below meets a quitting app.
    freeze(status["aria2c_pid"])
    if WINDOWS:  # no SIGTERM there (Popen's is TerminateProcess): ask as a user would
        app_home.launch("--quit")
    else:
        primary.send_signal(signal.SIGTERM)
    launches = []
    for url in urls:  # spread over the shutdown
        launches.append(app_home.launch(url))
        time.sleep(0.1)
    primary.wait(30)

    # Each launch handed its link over (exit 0) or became the new primary.
    wait_until(lambda: sum(p.poll() is not None for p in launches) >= len(launches) - 1, 60)
    running = [p for p in launches if p.poll() is None]
    refused = [(p.returncode, _stderr(p)) for p in launches if p.poll() not in (None, 0)]
    assert refused == []
    assert len(running) <= 1
    if not running:  # every link went to the old primary's journal: a start delivers them
        running = [app_home.launch()]
    status = app_home.wait_ready(60)
    assert status["app_pid"] == running[0].pid
    wait_until(lambda: set(urls) <= reached_aria2(app_home), 60)
    assert counts(app_home) == (1, 1)


def test_a_torrent_deleted_after_it_was_acknowledged_still_goes_in(
    app_home: AppHome, tmp_path: Path
) -> None:
    primary, status = start_primary(app_home)
    aria_pid = status["aria2c_pid"]
    torrent = tmp_path / "browser-temp.torrent"
    data = multi_file_torrent(torrent, "deleted-after-ack", [4096]).read_bytes()
    info_hash = hashlib.sha1(data[len(b"d4:info") : -1]).hexdigest()  # its only key is info

    # aria2c frozen: the link is acknowledged (journaled) but not handed over;
    # then the browser deletes its temporary file and the app dies.
    freeze(aria_pid)
    result = app_home.run(str(torrent))
    assert result.returncode == 0, result.stderr
    torrent.unlink()
    primary.kill()
    primary.wait(10)
    with contextlib.suppress(psutil.NoSuchProcess):  # on Windows its job ended it already
        kill_hard(aria_pid)
    wait_until(lambda: counts(app_home) == (0, 0), 20)

    app_home.launch()  # the next start replays the journal
    app_home.wait_ready(60)

    def in_aria2() -> bool:
        with app_home.rpc() as client:
            keys = ["infoHash"]
            tasks = client.tell_active(keys) + client.tell_waiting(0, 100, keys)
        return any(t.get("infoHash") == info_hash for t in tasks)

    try:
        wait_until(in_aria2, 30, interval=0.2)
    except TimeoutError:
        raise AssertionError(
            f"the torrent never reached aria2.\nLog:\n{app_home.log_text()}"
        ) from None
    wait_until(lambda: _status(app_home)["pending_links"] == 0, 30)
    copies = app_home.home / "journal-files"
    assert not copies.exists() or not any(copies.iterdir()), "copies go once aria2 has them"


def test_a_drain_that_timed_out_is_retried_and_sends_nothing_twice(
    app_home: AppHome, payload_factory: PayloadFactory
) -> None:
    primary, status = start_primary(app_home)
    aria_pid = status["aria2c_pid"]
    url = payload_factory("after-timeout.bin", 2048).url

    # aria2c frozen past the RPC timeout: the drain's request sits in its
    # socket, the drain fails, and aria2c takes the link when it thaws.
    freeze(aria_pid)
    try:
        result = app_home.run(url)
        assert result.returncode == 0, result.stderr
        wait_until(lambda: "could not hand links to aria2" in app_home.log_text(), 30)
    finally:
        thaw(aria_pid)

    try:
        wait_until(lambda: _status(app_home)["pending_links"] == 0, 60, interval=0.25)
    except TimeoutError:
        raise AssertionError("the failed drain was never retried") from None
    with app_home.rpc() as client:
        keys = ["gid", "files"]
        tasks = (
            client.tell_active(keys)
            + client.tell_waiting(0, 100, keys)
            + client.tell_stopped(0, 100, keys)
        )
    gids = {t["gid"] for t in tasks for f in t["files"] for u in f["uris"] if u["uri"] == url}
    # A finished download moves from aria2 to the history: one record each.
    records = [
        r
        for r in history_records(app_home)
        if any(url in (f.get("uris") or []) for f in r.get("files") or [])
    ]
    assert len(gids) + len(records) == 1, (gids, records)
    assert primary.poll() is None

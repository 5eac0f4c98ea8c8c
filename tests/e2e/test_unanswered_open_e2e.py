"""A launch whose links were journaled but never answered gets them added once, not twice.

The primary writes an ``open`` to its journal (fsync'd) and only then
answers. Killed between the two, it leaves a pending entry the launch never
heard of: the launch sees the connection close unanswered, retries, finds
nobody, becomes the primary itself with the same links, and its start hands
aria2 both the old entry and its own: the same download twice. The launch
keeps one request id for all its retries, and the journal keys its entry by
that id, so the second copy is recognised and written once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from subprocess import DEVNULL

import pytest
from e2e_support import counts

from aria2_core.journal import LinkJournal
from aria2_core.paths import AppPaths
from support.app_process import REPO, AppHome, is_frozen_target, wait_until
from support.http_server import FileServer, make_payload

# The first primary: main.py, run after a patch that makes it die the moment it
# would answer an ``open``, after the journal's fsync: a SIGKILL (TerminateProcess)
# of itself. (Not through sitecustomize: the Wine test bed has its own.)
KILLED_BEFORE_ANSWERING = """
import runpy, sys
import psutil
sys.path.insert(0, sys.argv[1])
from desktop import single_instance

def _die(reply, result):
    if "entries" in result:  # an open, journaled: die before anyone hears of it
        psutil.Process().kill()
    _answer(reply, result)

_answer = single_instance.DeferredReply.resolve
single_instance.DeferredReply.resolve = _die
sys.argv = [sys.argv[2]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def uri_counts(home: AppHome) -> Counter[str]:
    keys = ["gid", "files"]
    with home.rpc() as client:
        tasks = (
            client.tell_active(keys)
            + client.tell_waiting(0, 1000, keys)
            + client.tell_stopped(0, 1000, keys)
        )
    found: Counter[str] = Counter()
    for task in tasks:
        for uri in {u["uri"] for f in task["files"] for u in f["uris"]}:
            found[uri] += 1
    return found


@pytest.mark.skipif(is_frozen_target(), reason="the first primary is main.py, patched")
def test_links_journaled_but_never_answered_are_added_once(
    app_home: AppHome, tmp_path: Path
) -> None:
    server = FileServer(tmp_path / "www", throttle=2048).start()  # stays in aria2's queue
    try:
        make_payload(server.root, "unanswered.bin", 4 * 1024 * 1024)
        url = server.url("unanswered.bin")
        script = [sys.executable, "-c", KILLED_BEFORE_ANSWERING, str(REPO), str(REPO / "main.py")]
        first = subprocess.Popen(script, env=app_home.env(), stdout=DEVNULL, stderr=DEVNULL)
        app_home.launched.append(first)  # reaped with the home
        assert app_home.wait_ready(60)["app_pid"] == first.pid

        launch = app_home.launch(url)
        first.wait(30)  # killed itself with the entry on disk, unanswered
        journal = LinkJournal(AppPaths.for_home(app_home.home).journal_file)
        assert [entry.items for entry in journal.pending()] == [(url,)]

        status = app_home.wait_ready(60)  # the launch took over
        assert status["app_pid"] == launch.pid

        def drained() -> bool:
            result = app_home.run("--status")
            return result.returncode == 0 and json.loads(result.stdout)["pending_links"] == 0

        wait_until(drained, 60)
        assert uri_counts(app_home)[url] == 1, app_home.log_text()
        assert counts(app_home) == (1, 1)
    finally:
        server.stop()

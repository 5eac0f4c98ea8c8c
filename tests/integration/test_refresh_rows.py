"""A list refresh against a real aria2c builds only the rows aria2 reports changed.

Every refresh asks aria2 for all its downloads; with thousands queued,
decoding and building every row again was ~130 ms of Python per second on
the RPC worker, beside the GUI thread (issue 11 item 4). The row memo
(``task_ops.row_memo``) keeps each row's text: an unchanged row is the
same object as last time, and the list is exactly what a plain fetch gives.
"""

from __future__ import annotations

from aria2_core.task_ops import fetch_lists, row_memo
from support.aria2_daemon import Aria2Daemon

QUEUED = 400  # > 64 KB of JSON: the answer is decoded in pieces


def test_a_refresh_builds_only_the_rows_aria2_changed(aria2_daemon: Aria2Daemon) -> None:
    client = aria2_daemon.client
    # Paused, so aria2 never starts them: nothing changes unless we change it.
    calls = [
        ("aria2.addUri", [[f"http://127.0.0.1:9/queued-{n:03d}.bin"], {"pause": "true"}])
        for n in range(QUEUED)
    ]
    gids = client.multicall(calls)
    memo = row_memo()

    first = fetch_lists(client, memo=memo).live
    assert [r.gid for r in first] == gids
    assert memo.converted == QUEUED
    assert first == fetch_lists(client).live  # the same rows a plain fetch builds

    again = fetch_lists(client, memo=memo).live
    assert memo.converted == 0
    assert all(a is b for a, b in zip(again, first, strict=True))

    # The head goes, the last moves to the front, one gets another folder.
    client.remove(gids[0])
    client.change_position(gids[-1], 0, "POS_SET")
    moved_dir = str(aria2_daemon.download_dir / "elsewhere")
    client.change_option(gids[100], {"dir": moved_dir})
    third = fetch_lists(client, memo=memo).live
    assert third == fetch_lists(client).live
    assert [r.gid for r in third] == [gids[-1], *gids[1:-1]]
    assert memo.converted == 1
    changed = next(r for r in third if r.gid == gids[100])
    assert changed.dir == moved_dir
    before = {r.gid: r for r in first}
    assert all(r is before[r.gid] for r in third if r.gid != gids[100])

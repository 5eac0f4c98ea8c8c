"""A real drop, then a SIGKILL at the moment it is shown as added: no link lost or doubled.

Drops are parsed and journaled on the controller's journal worker (issue
11, item 4), so the window never waits for an fsync; the promise that
remains is the one users rely on: a drop is shown as added only once its
links are on disk. Everything here is real: ``main.py`` on a private Xvfb
with its drop zone shown, a drag source in another process
(``tests/support/drag_source.py``) and the mouse driven by xdotool, so the
300 links arrive through the X server's XDND protocol as from a file
manager. aria2c is frozen (SIGSTOP) first, so the entry cannot be handed
over and marked done: the moment the app says "added" (its log line, written
by the same callback that shows "Added ✓"), it is SIGKILLed. The journal on
disk must then hold the whole drop, once; the next start must give aria2
every link exactly once.
"""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import counts

from aria2_core.journal import LinkJournal
from support.app_process import REPO, AppHome, wait_until
from support.xserver import XServer, tray_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.tray,
]

LINKS = 300
ZONE_TITLE = "Aria Tray drop zone"


@pytest.fixture
def xserver() -> Iterator[XServer]:
    with tray_server() as server:
        yield server


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that takes connections and never answers: the links just wait."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        yield sock.getsockname()[1]


def show_drop_zone(app_home: AppHome) -> None:
    from desktop.settings import SettingsStore

    store = SettingsStore(app_home.home / "settings.ini")
    settings = store.load()
    settings.drop_zone_visible = True
    settings.drop_zone_pos = (600, 400)
    settings.first_run_done = True
    store.save(settings)


def drag(xserver: XServer, source: int, target: int) -> None:
    """Press on ``source``, move in steps onto ``target``'s middle, release."""
    src, dst = xserver.window_info(source), xserver.window_info(target)
    assert src is not None and dst is not None
    x0, y0 = src.x + src.width // 2, src.y + src.height // 2
    x1, y1 = dst.x + dst.width // 2, dst.y + dst.height // 2
    xserver.run("xdotool", "mousemove", str(x0), str(y0), "mousedown", "1")
    for step in range(1, 9):
        x, y = x0 + (x1 - x0) * step // 8, y0 + (y1 - y0) * step // 8
        xserver.run("xdotool", "mousemove", str(x), str(y))
        time.sleep(0.05)  # XDND position and status messages go back and forth
    xserver.run("xdotool", "mousemove", str(x1), str(y1 + 1))
    time.sleep(0.2)
    xserver.run("xdotool", "mouseup", "1")


def test_a_drop_shown_as_added_survives_a_kill_at_that_moment(
    app_home: AppHome, xserver: XServer, silent_port: int, tmp_path: Path
) -> None:
    links = [f"http://127.0.0.1:{silent_port}/drop/{n:03d}.bin" for n in range(LINKS)]
    show_drop_zone(app_home)
    app_home.extra_env.update(xserver.env())
    app = app_home.launch()
    status = app_home.wait_ready()
    (zone,) = wait_until(lambda: xserver.search("--name", ZONE_TITLE), timeout=20)
    aria2c = status["aria2c_pid"]
    # Frozen: the drain cannot hand the entry over, so only the journal holds it.
    subprocess.run(["kill", "-STOP", str(aria2c)], check=True)

    links_file = tmp_path / "links.txt"
    links_file.write_text("\n".join(links), encoding="utf-8")
    source_proc = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "support" / "drag_source.py"), str(links_file)],
        env={**os.environ, **xserver.env()},  # not of the app home: not counted as the app
        stdout=subprocess.PIPE,
        text=True,
    )
    app_home.launched.append(source_proc)  # type: ignore[arg-type]
    assert source_proc.stdout is not None
    assert source_proc.stdout.readline().strip() == "ready"
    (source,) = wait_until(lambda: xserver.search("--name", "drag source"), timeout=20)

    added = f"drop zone: {LINKS} link(s) added, 0 rejected"
    drag(xserver, source, zone)
    # The drag ended as a Copy: the drop was taken, and the source keeps its data.
    assert source_proc.stdout.readline().strip() == "dropped CopyAction"
    wait_until(lambda: added in app_home.log_text(), timeout=30, interval=0.005)
    app.send_signal(signal.SIGKILL)  # at the moment the drop was shown as added
    app.wait(10)
    source_proc.kill()
    subprocess.run(["kill", "-KILL", str(aria2c)], check=False)
    wait_until(lambda: counts(app_home) == (0, 0), timeout=20)

    (entry,) = LinkJournal(app_home.home / "journal.jsonl").pending()
    assert list(entry.items) == links and entry.source == "drop zone"

    # The next start hands the journal to aria2: every link, exactly once.
    app_home.launch()
    app_home.wait_ready()

    def held() -> collections.Counter[str]:
        keys = ["gid", "files"]
        with app_home.rpc() as client:
            tasks = client.tell_active(keys) + client.tell_waiting(0, 10_000, keys)
        return collections.Counter(
            uri["uri"] for t in tasks for f in t["files"] for uri in f["uris"][:1]
        )

    seen = wait_until(lambda: (c := held()) and sum(c.values()) >= LINKS and c, timeout=60)
    assert set(seen) == set(links)
    assert max(seen.values()) == 1, "a link went in twice"
    wait_until(lambda: LinkJournal(app_home.home / "journal.jsonl").pending() == [], timeout=30)
    assert counts(app_home) == (1, 1)

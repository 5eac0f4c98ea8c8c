"""A quit and restart keeps every download exactly as the user left it (issue 9 acceptance).

One round trip through the real app (``main.py``, its own aria2c) covers
the matrix: HTTP, a multi-file torrent, a single-file torrent, a magnet and
a metalink; active, paused, seeding, finished and failed. The torrents are
web-seeded from the loopback HTTP server, the magnet is tracker-less (it
waits for metadata, paused). Between the runs the default download folder
changes, so a download that followed the default would move.

What must come back: each download's state, folder, progress (paused ones
resume where they stopped, with the app showing the recorded progress),
options (user agent, headers, file selection) and nothing downloaded twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from e2e_support import history_records, start_primary

from aria2_core.ipc_protocol import PROTOCOL_VERSION
from aria2_core.paths import AppPaths
from desktop.ipc_client import send_request
from support.app_process import AppHome, wait_until
from support.app_world import HERMETIC_OPTIONS
from support.fixture_files import (
    write_metalink,
    write_webseed_multi_torrent,
    write_webseed_torrent,
)
from support.http_server import FileServer, make_payload, sha256_of

pytestmark = pytest.mark.e2e

SLOW = 128 * 1024  # bytes/s per connection: slow enough to catch each download mid-way
MAGNET = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=matrix-magnet"
KEYS = ["gid", "status", "dir", "files", "bittorrent", "completedLength", "totalLength"]
UA = "matrix-agent/1.0"


def _tasks(home: AppHome) -> dict[str, dict[str, Any]]:
    """aria2's downloads by name (torrent name, else the first file's name or URI)."""
    with home.rpc() as client:
        found = (
            client.tell_active(KEYS)
            + client.tell_waiting(0, 100, KEYS)
            + client.tell_stopped(0, 100, KEYS)
        )
    named: dict[str, dict[str, Any]] = {}
    for task in found:
        info = (task.get("bittorrent") or {}).get("info") or {}
        first = (task.get("files") or [{}])[0]
        uris = [u["uri"] for u in first.get("uris", [])]
        name = info.get("name") or Path(first.get("path") or "").name
        name = name or (uris[0].rsplit("/", 1)[-1] if uris else task["gid"])
        named[name] = task
    return named


def _task(home: AppHome, name: str, timeout: float = 30.0, **want: Any) -> dict[str, Any]:
    """Wait until ``name`` is in aria2 and matches ``want`` (``min_done`` = completed bytes)."""
    min_done = want.pop("min_done", None)

    def look() -> dict[str, Any] | None:
        task = _tasks(home).get(name)
        if task is None or any(task.get(k) != v for k, v in want.items()):
            return None
        if min_done is not None and int(task["completedLength"]) < min_done:
            return None
        return task

    return wait_until(look, timeout, interval=0.2)


def _seeding(home: AppHome) -> dict[str, Any]:
    """The multi-file torrent, done with its one selected file (b.bin) and seeding."""

    def look() -> dict[str, Any] | None:
        task = _tasks(home).get("multi")
        if task is None or task["status"] != "active":
            return None
        files = {Path(f["path"]).name: f for f in task["files"]}
        b = files["b.bin"]
        done = (
            task["completedLength"] == task["totalLength"] and b["completedLength"] == b["length"]
        )
        return task if done and files["a.bin"]["selected"] == "false" else None

    return wait_until(look, 30, interval=0.2)


def _rpc(home: AppHome, method: str, *params: Any) -> Any:
    with home.rpc() as client:
        return client.call(method, *params)


def _history(home: AppHome, name: str) -> dict[str, Any] | None:
    for record in history_records(home):
        if record.get("name") == name:
            return record
    return None


def _finished(home: AppHome, name: str) -> str | None:
    """The final status of ``name``: aria2's, or the history's once the app moved it there."""
    task = _tasks(home).get(name)
    if task is not None and task["status"] in ("complete", "error"):
        return str(task["status"])
    record = _history(home, name)
    return str(record["status"]) if record else None


def _ledger(home: AppHome) -> dict[str, dict[str, Any]]:
    data = json.loads(AppPaths.for_home(home.home).ledger_file.read_text())
    return {o["gid"]: o for o in data["origins"]}


def _resumed(server: FileServer, name: str, after: int) -> bool:
    """A request for ``name`` made after the restart asked for a range past byte 0."""
    for record in server.requests_for(name)[after:]:
        if (record.range or "").startswith("bytes=") and not record.range.startswith("bytes=0-"):
            return True
    return False


def _write_settings(home: AppHome) -> None:
    from desktop.settings import AppSettings, SettingsStore

    paths = AppPaths.for_home(home.home)
    paths.ensure()
    SettingsStore(paths.settings_file).save(
        AppSettings(download_dir=str(home.download_dir), extra_options=dict(HERMETIC_OPTIONS))
    )


def test_a_restart_keeps_every_download_as_the_user_left_it(
    app_home: AppHome, http_server: FileServer, tmp_path: Path
) -> None:
    www = Path(http_server.root)
    first_dir, custom = app_home.download_dir, app_home.home / "custom"
    # HTTP: active (with options), paused mid-way, finished, failed.
    make_payload(www, "active.bin", 16_000_000)
    _, paused_sha = make_payload(www, "paused.bin", 4_000_000)
    make_payload(www, "done.bin", 100_000)
    # A single-file torrent (paused mid-way, in its own folder), a multi-file one
    # (one file selected, seeding), a metalink (paused mid-way), a magnet (paused).
    single, _ = make_payload(www, "single.bin", 2_000_000)
    (www / "multi").mkdir()
    make_payload(www / "multi", "a.bin", 300_000)
    _, b_sha = make_payload(www / "multi", "b.bin", 200_000)
    _, meta_sha = make_payload(www, "meta.bin", 4_000_000)
    for name in (
        "active.bin",
        "paused.bin",
        "single.bin",
        "meta.bin",
        "multi/a.bin",
        "multi/b.bin",
    ):
        http_server.file_throttle[name] = SLOW
    torrent = write_webseed_torrent(tmp_path, single, http_server.url(""))
    multi = write_webseed_multi_torrent(tmp_path, www, "multi", http_server.url(""))
    metalink = write_metalink(
        tmp_path, "meta.bin", http_server.url("meta.bin"), 4_000_000, meta_sha
    )
    _write_settings(app_home)

    start_primary(app_home)
    items: list[Any] = [
        {
            "uri": http_server.url("active.bin"),
            "options": {"user-agent": UA, "header": ["X-Matrix: 1"]},
        },
        http_server.url("paused.bin"),
        http_server.url("done.bin"),
        http_server.url("missing.bin"),
        {"uri": str(torrent), "options": {"dir": str(custom)}},
        str(multi),
        str(metalink),
        {"uri": MAGNET, "options": {"dir": str(custom)}},
    ]
    server_name = AppPaths.for_home(app_home.home).server_name
    assert PROTOCOL_VERSION >= 2
    send_request(server_name, "open", {"items": items, "cwd": str(tmp_path)}, timeout=10)

    # Bring each download to the state the user leaves it in.
    seeding = _task(app_home, "multi")
    _rpc(app_home, "aria2.changeOption", seeding["gid"], {"select-file": "2"})
    del http_server.file_throttle["multi/b.bin"]
    for name in ("paused.bin", "single.bin", "meta.bin"):
        task = _task(app_home, name, min_done=300_000)
        _rpc(app_home, "aria2.pause", task["gid"])
    magnet = _task(app_home, "[METADATA]matrix-magnet")
    _rpc(app_home, "aria2.pause", magnet["gid"])
    _seeding(app_home)
    active = _task(app_home, "active.bin", status="active", min_done=300_000)
    wait_until(lambda: (_history(app_home, "done.bin") or {}).get("status") == "complete", 30)
    wait_until(lambda: (_history(app_home, "missing.bin") or {}).get("status") == "error", 30)
    before = {
        name: _task(app_home, name) for name in ("paused.bin", "single.bin", "meta.bin", "multi")
    }
    before["active.bin"] = active
    before["magnet"] = _task(app_home, "[METADATA]matrix-magnet", status="paused")
    for name in ("paused.bin", "single.bin", "meta.bin"):
        before[name] = _task(app_home, name, status="paused")
    requests_at_quit = {
        n: len(http_server.requests_for(n))
        for n in ("done.bin", "missing.bin", "multi/b.bin", "active.bin", "paused.bin")
    }

    assert app_home.run("--quit", timeout=30).returncode == 0
    wait_until(lambda: not app_home.app_processes() and not app_home.aria2c_processes(), 20)

    # The default folder changes between the runs: nothing may follow it.
    app_home.download_dir = app_home.home / "new-default"
    app_home.download_dir.mkdir()
    start_primary(app_home)

    after = {name: _task(app_home, name) for name in before if name != "magnet"}
    after["magnet"] = _task(app_home, "[METADATA]matrix-magnet")
    for name, old in before.items():
        new = after[name]
        # aria2 gives a metalink loaded from the session a new gid; the app follows it.
        assert new["gid"] == old["gid"] or name == "meta.bin", name
        assert new["dir"] == old["dir"], name
    assert after["paused.bin"]["dir"] == str(first_dir) and after["single.bin"]["dir"] == str(
        custom
    )
    assert after["magnet"]["dir"] == str(custom)
    # State: paused ones stay paused, the seeding torrent seeds, the active one runs.
    for name in ("paused.bin", "single.bin", "meta.bin", "magnet"):
        assert after[name]["status"] == "paused", name
    seeding_again = _seeding(app_home)
    assert sha256_of(first_dir / "multi" / "b.bin") == b_sha
    _task(app_home, "active.bin", status="active")
    # Options and file selection.
    ua_options = _rpc(app_home, "aria2.getOption", after["active.bin"]["gid"])
    assert ua_options["user-agent"] == UA and "X-Matrix: 1" in ua_options["header"]
    assert _rpc(app_home, "aria2.getOption", seeding_again["gid"])["select-file"] == "2"
    # Progress: what the app shows for paused downloads aria2 has not opened yet...
    for name in ("paused.bin", "single.bin", "meta.bin"):
        gid = after[name]["gid"]
        record = wait_until(lambda gid=gid: _ledger(app_home).get(gid), 10)
        assert record["progress"][1] == int(before[name]["completedLength"]) > 0, name
    # ...and aria2 resumes each where it stopped, to the right bytes.
    wait_until(lambda: _resumed(http_server, "active.bin", requests_at_quit["active.bin"]), 30)
    http_server.file_throttle.clear()
    _rpc(app_home, "aria2.unpause", after["paused.bin"]["gid"])
    wait_until(lambda: _finished(app_home, "paused.bin") == "complete", 60, interval=0.2)
    assert _resumed(http_server, "paused.bin", requests_at_quit["paused.bin"])
    assert sha256_of(first_dir / "paused.bin") == paused_sha
    # Finished and failed ones are remembered, not fetched again.
    assert _history(app_home, "done.bin")["status"] == "complete"  # type: ignore[index]
    assert _history(app_home, "missing.bin")["status"] == "error"  # type: ignore[index]
    for name in ("done.bin", "missing.bin", "multi/b.bin"):
        assert len(http_server.requests_for(name)) == requests_at_quit[name], name
    # aria2's own files stayed in the app home.
    for folder in (first_dir, custom, app_home.download_dir):
        assert not [p for p in folder.rglob("*") if p.suffix in (".torrent", ".meta4")]

"""Downloads come back from a quit and restart exactly as the user left them (issue 9, items 1-5).

A real controller on a real aria2c, stopped the orderly way and started
again on the same app home. Torrents are web-seeded from the loopback HTTP
server, so they download and seed with no tracker and no peers. They run
on Windows (under Wine) too: the session entries hold Windows paths there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from aria2_core.models import DownloadInfo
from aria2_core.ports import pick_free_port
from aria2_core.task_ops import ActionResult
from support.app_world import WAIT_MS, AppWorld, conf_value
from support.aria2_daemon import Aria2Daemon
from support.fixture_files import (
    write_metalink,
    write_static_tracker,
    write_tracked_torrent,
    write_webseed_torrent,
)
from support.http_server import FileServer, PayloadFactory, make_payload, sha256_of

MAGNET = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=never-there"


def rows_where(qtbot: Any, c: Any, match: Callable[[DownloadInfo], bool]) -> DownloadInfo:
    """Wait for a row of ``c`` that ``match`` accepts; return it."""
    found: list[DownloadInfo] = []

    def look() -> bool:
        found[:] = [r for r in c.downloads() if match(r)]
        return bool(found)

    qtbot.waitUntil(look, timeout=WAIT_MS)
    return found[0]


def run(qtbot: Any, start: Callable[[Callable[[ActionResult], None]], object]) -> ActionResult:
    results: list[ActionResult] = []
    start(results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT_MS)
    return results[0]


def details_of(qtbot: Any, c: Any, gid: str) -> Any:
    details: list[Any] = []
    c.fetch_details(gid, details.append)
    qtbot.waitUntil(lambda: bool(details), timeout=WAIT_MS)
    return details[0]


def restart(world: AppWorld, c: Any) -> Any:
    world.stop(c)
    return world.controller()


def test_seeding_torrent_comes_back_seeding(
    qtbot: Any, world: AppWorld, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    """Item 1: aria2 does not save a finished (seeding) torrent unless told to."""
    payload = payload_factory("seeded.bin", 300_000)
    torrent = write_webseed_torrent(world.home, payload.path, http_server.url(""))
    c = world.controller()
    c.submit([str(torrent)], source="test")
    seeding = rows_where(
        qtbot,
        c,
        lambda r: (
            r.name == "seeded.bin"
            and r.status == "active"
            and r.total_length > 0
            and r.completed_length == r.total_length
        ),
    )
    again = restart(world, c)
    back = rows_where(qtbot, again, lambda r: r.gid == seeding.gid)
    assert (
        back.status == "active" and not back.from_history if hasattr(back, "from_history") else True
    )
    back = rows_where(
        qtbot, again, lambda r: r.gid == seeding.gid and r.completed_length == r.total_length > 0
    )
    assert back.dir == str(world.download_dir)
    assert sha256_of(world.download_dir / "seeded.bin") == payload.sha256


def test_paused_torrent_and_magnet_keep_their_folder_when_the_default_changes(
    qtbot: Any, world: AppWorld, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    """Item 2: every download carries its own folder; a new default moves none."""
    payload = payload_factory("stay.bin", 50_000)
    torrent = write_webseed_torrent(world.home, payload.path, http_server.url(""))
    c = world.controller()
    c.submit([str(torrent), MAGNET, payload.url], source="test", options={"pause": "true"})
    rows_where(qtbot, c, lambda r: r.name == "stay.bin" and r.is_torrent and r.status == "paused")
    rows_where(qtbot, c, lambda r: "never-there" in r.name and r.status == "paused")
    world.stop(c)
    session = world.paths.session_file.read_text()
    # aria2 saves what it can (the torrent, added from bytes, comes back from the ledger).
    assert session.count(f" dir={world.download_dir}\n") == session.count(" gid=") >= 2, session
    elsewhere = world.home / "elsewhere"
    world.store.save(replace(world.store.load(), download_dir=str(elsewhere)))
    again = world.controller()
    assert conf_value(world.paths.conf_file, "dir") == str(elsewhere)
    for match in (
        lambda r: r.name == "stay.bin" and r.is_torrent,
        lambda r: "never-there" in r.name,
        lambda r: r.name == "stay.bin" and not r.is_torrent,
    ):
        row = rows_where(qtbot, again, match)
        assert row.status == "paused" and row.dir == str(world.download_dir), row


def test_paused_downloads_show_their_progress_after_a_restart(
    qtbot: Any, world: AppWorld, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    """Item 3: aria2 reports 0 of 0 for a paused download it has not opened yet."""
    http_server.throttle = 200_000
    payload = payload_factory("half.bin", 4_000_000)
    c = world.controller()
    c.submit([payload.url], source="test")
    row = rows_where(qtbot, c, lambda r: r.completed_length > 500_000)
    run(qtbot, lambda done: c.pause([row.gid], done))
    paused = rows_where(qtbot, c, lambda r: r.gid == row.gid and r.status == "paused")
    before = details_of(qtbot, c, row.gid).files[0]  # whole pieces only, as aria2 counts files
    again = restart(world, c)
    back = rows_where(qtbot, again, lambda r: r.gid == row.gid)
    assert back.status == "paused"
    assert back.total_length == payload.size
    assert back.completed_length == paused.completed_length > 0
    assert back.name == "half.bin"
    shown = details_of(qtbot, again, row.gid).files[0]
    assert (shown.length, shown.completed_length) == (payload.size, before.completed_length)


def test_retry_of_a_failed_torrent_adds_the_same_torrent_again(
    qtbot: Any, world: AppWorld, http_server: FileServer, tmp_path: Path
) -> None:
    """Item 4: not a bare magnet that waits for metadata forever."""
    source, digest = make_payload(tmp_path, "later.bin", 100_000)
    torrent = write_webseed_torrent(world.home, source, http_server.url(""))
    c = world.controller()
    other = world.home / "chosen"
    c.submit(
        [str(torrent)],
        source="test",
        options={"dir": str(other), "bt-stop-timeout": "2", "max-tries": "1"},
    )
    failed = rows_where(qtbot, c, lambda r: r.status == "error" and r.name == "later.bin")
    torrent.unlink()  # the user's copy is gone: the app kept its own
    make_payload(http_server.root, "later.bin", 0)
    (Path(http_server.root) / "later.bin").write_bytes(source.read_bytes())
    assert run(qtbot, lambda done: c.retry([failed.gid], done)).done == [failed.gid]
    done = rows_where(
        qtbot,
        c,
        lambda r: (
            r.gid != failed.gid
            and r.name == "later.bin"
            and r.completed_length == r.total_length > 0
        ),
    )
    assert done.is_torrent and done.dir == str(other)
    assert sha256_of(other / "later.bin") == digest


def test_aria2_keeps_its_own_files_in_the_app_home(
    qtbot: Any,
    world: AppWorld,
    http_server: FileServer,
    payload_factory: PayloadFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Item 5: no <hash>.torrent in the user's folder, no DHT table in ~/.cache/aria2."""
    fake_home = tmp_path / "user-home"
    fake_home.mkdir()
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    settings = world.store.load()
    extra = {**settings.extra_options, "enable-dht": "true", "dht-listen-port": "0"}
    extra.pop("dht-listen-port")
    world.store.save(replace(settings, extra_options=extra))
    payload = payload_factory("own.bin", 50_000)
    torrent = write_webseed_torrent(world.home, payload.path, http_server.url(""))
    c = world.controller()
    c.submit([str(torrent)], source="test")
    rows_where(qtbot, c, lambda r: r.name == "own.bin" and r.completed_length == r.total_length > 0)
    world.stop(c)
    copies = [p.name for p in world.download_dir.iterdir() if p.suffix in (".torrent", ".meta4")]
    assert copies == []
    assert not (fake_home / ".cache" / "aria2").exists()
    assert not (fake_home / ".aria2").exists()
    assert Path(conf_value(world.paths.conf_file, "dht-file-path")).parent == world.paths.engine_dir


def test_a_torrent_done_seeding_leaves_no_control_file_behind(
    qtbot: Any, world: AppWorld, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    """Torrents are force-saved (item 1), so aria2 keeps their control file when complete."""
    payload = payload_factory("brief.bin", 50_000)
    torrent = write_webseed_torrent(world.home, payload.path, http_server.url(""))
    c = world.controller()
    c.submit([str(torrent)], source="test", options={"seed-time": "0"})
    done = rows_where(qtbot, c, lambda r: r.name == "brief.bin" and r.status == "complete")
    assert getattr(done, "from_history", False)
    assert sha256_of(world.download_dir / "brief.bin") == payload.sha256
    qtbot.waitUntil(lambda: not (world.download_dir / "brief.bin.aria2").exists(), timeout=WAIT_MS)
    again = restart(world, c)
    back = rows_where(qtbot, again, lambda r: r.gid == done.gid)
    assert back.status == "complete" and getattr(back, "from_history", False)
    assert world.probe(again).tell_active(["gid"]) == []  # not seeding, nor downloading, again


def test_a_seeding_magnet_comes_back_seeding_without_its_peers(
    qtbot: Any, world: AppWorld, http_server: FileServer, tmp_path: Path
) -> None:
    """Item 1 for magnets: the app keeps the metadata, so no peer has to send it again."""
    seeds = tmp_path / "seeder-files"
    seeds.mkdir()
    payload, digest = make_payload(seeds, "mag.bin", 300_000)
    port = pick_free_port()
    write_static_tracker(Path(http_server.root), "announce", port)
    tracker = http_server.url("announce")
    torrent, info_hash = write_tracked_torrent(tmp_path, payload, tracker)
    seeder_options = [f"--listen-port={port}", "--seed-ratio=0.0", "--bt-seed-unverified=true"]
    with Aria2Daemon(tmp_path / "seeder", seeder_options).start() as seeder:
        seeder.client.add_torrent(torrent, options={"dir": str(seeds)})
        c = world.controller()
        c.submit([f"magnet:?xt=urn:btih:{info_hash}&dn=mag.bin&tr={tracker}"], source="test")
        done = rows_where(  # the real download, not its metadata step (also "mag.bin")
            qtbot,
            c,
            lambda r: (
                r.name == "mag.bin"
                and not r.is_metadata
                and r.completed_length == r.total_length > 0
            ),
        )
        # aria2 wrote the metadata into the download folder; the app took it home.
        qtbot.waitUntil(
            lambda: not (world.download_dir / f"{info_hash}.torrent").exists(), timeout=WAIT_MS
        )
    again = restart(world, c)  # the only peer is gone
    back = rows_where(qtbot, again, lambda r: r.gid == done.gid and r.completed_length > 0)
    assert back.status == "active" and back.name == "mag.bin"
    assert back.completed_length == back.total_length == 300_000
    assert back.dir == str(world.download_dir)
    assert sha256_of(world.download_dir / "mag.bin") == digest


def test_retry_of_a_failed_metalink_adds_the_same_metalink_again(
    qtbot: Any, world: AppWorld, http_server: FileServer, tmp_path: Path
) -> None:
    """Item 4: the metalink comes back with its checksum and folder, not as a bare link.

    The server now sends other bytes: the retried metalink checks them
    against its SHA-256 and fails, where a plain re-added link would "complete".
    """
    _, digest = make_payload(tmp_path, "meta.bin", 60_000)
    metalink = write_metalink(tmp_path, "meta.bin", http_server.url("meta.bin"), 60_000, digest)
    c = world.controller()
    other = world.home / "chosen"
    c.submit([str(metalink)], source="test", options={"dir": str(other), "max-tries": "1"})
    failed = rows_where(qtbot, c, lambda r: r.status == "error" and r.name == "meta.bin")
    metalink.unlink()  # the user's file is gone: the app kept its own
    make_payload(http_server.root, "meta.bin", 60_000)  # not the bytes the metalink describes
    assert run(qtbot, lambda done: c.retry([failed.gid], done)).done == [failed.gid]
    again = rows_where(
        qtbot, c, lambda r: r.gid != failed.gid and r.name == "meta.bin" and r.is_finished
    )
    assert again.status == "error" and again.error_code == 32  # checksum validation failed
    assert again.dir == str(other)
    origin = c.ledger.get(again.gid)
    assert origin is not None and origin.kind == "metalink"

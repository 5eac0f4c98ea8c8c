"""Verified-orphan detection against real aria2c processes.

A process is ours only when pid, creation time and our conf path in its
command line all match the ownership record. Each decoy here fails exactly
one of those checks and must survive ``cleanup_orphan``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from aria2_core.binary import find_aria2c
from aria2_core.config import EngineSettings, build_launch
from aria2_core.orphans import cleanup_orphan, find_verified_orphan, is_owned
from aria2_core.ownership import PENDING_PID, OwnershipRecord, read_record, write_record
from aria2_core.paths import AppPaths
from aria2_core.ports import pick_free_port, pid_listens_on
from support.app_process import wait_until
from support.other_user import NOBODY, needs_root


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _start(paths: AppPaths, started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """An aria2c exactly as the engine would start it for ``paths``."""
    paths.ensure()
    spec = build_launch(
        find_aria2c(), paths, EngineSettings(download_dir=paths.home), pick_free_port(), 1
    )
    # --stop-with-process=1 would end it at once on some systems: replace it.
    args = [a for a in spec.arguments if not a.startswith("--stop-with-process")]
    proc = subprocess.Popen([spec.program, *args], stdout=subprocess.DEVNULL)
    started.append(proc)
    return proc


def _record_for(proc: subprocess.Popen[bytes], paths: AppPaths, **changes: object) -> None:
    fields = dict(
        pid=proc.pid,
        create_time=psutil.Process(proc.pid).create_time(),
        exe="aria2c",
        conf_path=str(paths.conf_file),
        port=1,
        app_pid=1,
    )
    fields.update(changes)
    write_record(paths, OwnershipRecord(**fields))  # type: ignore[arg-type]


def test_verified_orphan_is_stopped_and_record_cleared(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    paths = AppPaths.for_home(tmp_path / "home")
    orphan = _start(paths, started)
    _record_for(orphan, paths)
    assert find_verified_orphan(paths) is not None
    report = cleanup_orphan(paths)
    assert report.pid == orphan.pid
    assert report.action in ("terminated", "killed")
    assert orphan.wait(10) is not None
    assert read_record(paths) is None


@pytest.mark.parametrize(
    "change",
    [
        {"create_time": 12345.0},  # same pid, other life: a reused pid
        {"conf_path": "/somewhere/else/aria2.conf"},  # not started with our conf
    ],
)
def test_mismatching_record_protects_the_process(
    tmp_path: Path, started: list[subprocess.Popen[bytes]], change: dict[str, object]
) -> None:
    paths = AppPaths.for_home(tmp_path / "home")
    decoy = _start(paths, started)
    _record_for(decoy, paths, **change)
    assert not is_owned(psutil.Process(decoy.pid), read_record(paths), paths)  # type: ignore[arg-type]
    report = cleanup_orphan(paths)
    assert report.action == "stale-record"
    assert decoy.poll() is None
    assert psutil.Process(decoy.pid).status() != psutil.STATUS_ZOMBIE


def test_other_homes_aria2c_is_not_ours(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    ours = AppPaths.for_home(tmp_path / "ours")
    theirs = AppPaths.for_home(tmp_path / "theirs")
    foreign = _start(theirs, started)
    # Our record names their pid and create time but our conf path.
    ours.ensure()
    _record_for(foreign, ours)
    assert find_verified_orphan(ours) is None
    cleanup_orphan(ours)
    assert foreign.poll() is None


def test_no_record_means_nothing_to_do(tmp_path: Path) -> None:
    paths = AppPaths.for_home(tmp_path / "home")
    paths.ensure()
    report = cleanup_orphan(paths)
    assert report.action == "none"
    assert report.pid is None


def test_record_naming_another_homes_conf_is_not_ours(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    """Item 8 of issue 8: a copied home's record names the original's live aria2c."""
    original = AppPaths.for_home(tmp_path / "original")
    copy = AppPaths.for_home(tmp_path / "copy")
    live = _start(original, started)
    copy.ensure()
    # What `cp -a original copy` carries over: a record of the original's aria2c.
    _record_for(live, copy, conf_path=str(original.conf_file))
    assert find_verified_orphan(copy) is None
    report = cleanup_orphan(copy)
    assert report.action == "stale-record"
    assert live.poll() is None


@needs_root
def test_another_users_aria2c_is_never_touched(
    started: list[subprocess.Popen[bytes]],
) -> None:
    """Item 8 of issue 8: same conf path, pid and create time, but another user's process."""
    home = Path(tempfile.mkdtemp(prefix="at-orph-"))
    try:
        home.chmod(0o755)
        paths = AppPaths.for_home(home)
        paths.ensure()
        for folder in (home, paths.engine_dir):
            folder.chmod(0o755)  # the other user's aria2c must read the conf file
        port = pick_free_port()
        paths.conf_file.write_text(f"enable-rpc=true\nrpc-listen-port={port}\n")
        paths.conf_file.chmod(0o644)
        user = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        theirs = subprocess.Popen(
            [*user, str(find_aria2c()), f"--conf-path={paths.conf_file}", f"--dir={home}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(theirs)
        wait_until(lambda: pid_listens_on(theirs.pid, port), 10)
        _record_for(theirs, paths)
        assert find_verified_orphan(paths) is None
        cleanup_orphan(paths)
        assert theirs.poll() is None
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _record_of_crashed_app(paths: AppPaths, app_born: float, **changes: object) -> None:
    """The record a crashed app left: its aria2c's pid, long dead, or an announcement."""
    fields = dict(
        pid=PENDING_PID,
        create_time=0.0,
        exe="",
        conf_path=str(paths.conf_file),
        port=0,
        app_pid=1,
        app_create_time=app_born,
    )
    fields.update(changes)
    write_record(paths, OwnershipRecord(**fields))  # type: ignore[arg-type]


@pytest.mark.parametrize("recorded_pid", [PENDING_PID, 2**22 + 1], ids=["announced", "dead pid"])
def test_an_aria2c_born_after_the_recording_app_is_stopped(
    tmp_path: Path, started: list[subprocess.Popen[bytes]], recorded_pid: int
) -> None:
    """The app died between a launch and its record: the record names no live aria2c,
    yet this home's aria2c born since that app is its orphan."""
    paths = AppPaths.for_home(tmp_path / "home")
    app_born = psutil.Process().create_time()
    orphan = _start(paths, started)
    _record_of_crashed_app(paths, app_born, pid=recorded_pid)
    report = cleanup_orphan(paths)
    assert report.pid == orphan.pid and report.action in ("terminated", "killed"), report
    assert orphan.wait(10) is not None
    assert read_record(paths) is None


def test_an_aria2c_born_before_the_recording_app_is_not_its_orphan(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    paths = AppPaths.for_home(tmp_path / "home")
    older = _start(paths, started)
    born = psutil.Process(older.pid).create_time()
    _record_of_crashed_app(paths, born + 5.0)
    report = cleanup_orphan(paths)
    assert report.action == "stale-record", report
    assert older.poll() is None


def test_an_announced_start_spares_other_homes_and_old_records(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    """Another home's aria2c never matches; a record without the app's birth
    (an older version's) vouches for its pid alone, so the table is not searched."""
    ours = AppPaths.for_home(tmp_path / "ours")
    theirs = AppPaths.for_home(tmp_path / "theirs")
    app_born = psutil.Process().create_time()
    foreign = _start(theirs, started)
    ours.ensure()
    _record_of_crashed_app(ours, app_born)
    assert cleanup_orphan(ours).action == "stale-record"
    mine = _start(ours, started)
    _record_of_crashed_app(ours, app_born, app_create_time=None)
    assert cleanup_orphan(ours).action == "stale-record"
    assert foreign.poll() is None and mine.poll() is None

"""``--cleanup`` (and the app's own start) stop a verified orphan and nothing else.

Acceptance item: a planted orphan (an aria2c started with this home's
``--conf-path`` and a matching ownership record) is stopped; a decoy whose
record does not match and a foreign aria2c are not; and ``--cleanup``
refuses while a live primary holds the lock, leaving its aria2c alone.

The orphan is planted by hand rather than by SIGKILLing an app: that is
deterministic, whereas ``--stop-with-process`` would end a real orphan about
a second after its app died.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from e2e_support import AriaProcess, aria2c_pids, counts, free_port, start_primary

from aria2_core.binary import find_aria2c
from aria2_core.config import EngineSettings, build_launch, conf_path_argument
from aria2_core.ownership import OwnershipRecord, read_record, write_record
from aria2_core.paths import AppPaths
from support.app_process import AppHome, wait_until
from support.other_user import NOBODY, chown_tree, needs_root, run_as_nobody
from support.programs import TRUE_COMMAND

pytestmark = pytest.mark.e2e


@dataclass
class Planted:
    paths: AppPaths
    orphan: AriaProcess
    decoy: AriaProcess  # same --conf-path argument, its own port, never recorded
    foreign: AriaProcess  # the user's own aria2c
    record: OwnershipRecord  # the one that names ``orphan``

    @property
    def everyone(self) -> tuple[AriaProcess, ...]:
        return (self.orphan, self.decoy, self.foreign)


def _dead_pid() -> int:
    """The pid of a process that has exited: the crashed app of the story."""
    proc = subprocess.Popen(TRUE_COMMAND)
    proc.wait()
    return proc.pid


@pytest.fixture
def planted(app_home: AppHome, tmp_path: Path) -> Iterator[Planted]:
    paths = AppPaths.for_home(app_home.home)
    paths.ensure()
    binary = str(find_aria2c())
    port, _ = free_port()
    settings = EngineSettings(download_dir=app_home.download_dir)
    spec = build_launch(Path(binary), paths, settings, port, owner_pid=os.getpid())
    conf_arg = conf_path_argument(paths.conf_file)
    orphan = AriaProcess([conf_arg], port, binary)
    decoy_port, _ = free_port()
    decoy = AriaProcess([conf_arg, f"--rpc-listen-port={decoy_port}"], decoy_port, binary)
    foreign_port, _ = free_port()
    foreign_dir = tmp_path / "foreign"
    foreign_dir.mkdir()
    foreign = AriaProcess(
        ["--enable-rpc", f"--rpc-listen-port={foreign_port}", "--no-conf", f"--dir={foreign_dir}"],
        foreign_port,
    )
    try:
        for proc in (orphan, decoy, foreign):
            proc.start()
        for proc in (orphan, decoy, foreign):
            proc.wait_listening()
        record = OwnershipRecord(
            pid=orphan.pid,
            create_time=psutil.Process(orphan.pid).create_time(),
            exe=binary,
            conf_path=str(spec.conf_path),
            port=port,
            app_pid=_dead_pid(),
        )
        write_record(paths, record)
        yield Planted(paths, orphan, decoy, foreign, record)
    finally:
        for proc in (orphan, decoy, foreign):
            proc.stop()


def test_cleanup_stops_the_verified_orphan_only(app_home: AppHome, planted: Planted) -> None:
    result = app_home.run("--cleanup")

    assert result.returncode == 0, result.stderr
    assert f"orphaned aria2c pid {planted.orphan.pid}" in result.stdout
    wait_until(lambda: not planted.orphan.alive(), 5)
    assert planted.decoy.alive(), "--cleanup killed an aria2c its record did not name"
    assert planted.foreign.alive(), "--cleanup killed a foreign aria2c"
    assert read_record(planted.paths) is None
    assert counts(app_home) == (0, 1)  # the decoy carries our --conf-path, and lives


def _record_for_foreign(p: Planted) -> OwnershipRecord:
    create = psutil.Process(p.foreign.pid).create_time()
    return dataclasses.replace(p.record, pid=p.foreign.pid, create_time=create)


def _record_wrong_create_time(p: Planted) -> OwnershipRecord:
    create = psutil.Process(p.decoy.pid).create_time()
    return dataclasses.replace(p.record, pid=p.decoy.pid, create_time=create - 30.0)


def _record_other_conf(p: Planted) -> OwnershipRecord:
    create = psutil.Process(p.decoy.pid).create_time()
    other = str(Path(p.record.conf_path).parent.parent / "elsewhere" / "aria2.conf")
    return dataclasses.replace(p.record, pid=p.decoy.pid, create_time=create, conf_path=other)


@pytest.mark.parametrize(
    "make_record",
    [_record_for_foreign, _record_wrong_create_time, _record_other_conf],
    ids=["foreign-pid", "reused-pid-wrong-create-time", "other-conf-path"],
)
def test_cleanup_spares_what_a_record_names_but_does_not_prove(
    app_home: AppHome, planted: Planted, make_record: Callable[[Planted], OwnershipRecord]
) -> None:
    record = make_record(planted)
    write_record(planted.paths, record)

    result = app_home.run("--cleanup")

    assert result.returncode == 0, result.stderr
    assert all(p.alive() for p in planted.everyone), result.stdout
    assert read_record(planted.paths) is None  # an unprovable record is dropped


def test_app_start_stops_the_verified_orphan_only(app_home: AppHome, planted: Planted) -> None:
    planted.decoy.stop()  # it would count as a second aria2c of this home
    start_primary(app_home)

    wait_until(lambda: not planted.orphan.alive(), 5)
    assert planted.foreign.alive()
    assert counts(app_home) == (1, 1)
    assert f"orphaned aria2c pid {planted.orphan.pid}" in app_home.log_text()


def test_cleanup_refuses_while_a_primary_runs(app_home: AppHome) -> None:
    primary, status = start_primary(app_home)

    result = app_home.run("--cleanup")

    assert result.returncode != 0
    assert "refusing" in result.stderr and str(primary.pid) in result.stderr, result.stderr
    assert aria2c_pids(app_home) == {status["aria2c_pid"]}
    assert primary.poll() is None
    assert app_home.wait_ready()["aria2c_pid"] == status["aria2c_pid"]


@pytest.fixture
def copied_home(app_home: AppHome) -> Iterator[AppHome]:
    """A second app home, filled later by ``cp -a`` of ``app_home``; cleaned up by pid."""
    copy = AppHome.create()
    shutil.rmtree(copy.home)
    try:
        yield copy
    finally:
        copy.dispose()


@pytest.mark.parametrize("how", ["--cleanup", "start"])
def test_a_copy_of_the_home_never_stops_the_originals_aria2c(
    app_home: AppHome, copied_home: AppHome, how: str
) -> None:
    """Item 8 of issue 8: ``cp -a home copy; ARIA_TRAY_HOME=copy main.py --cleanup``."""
    primary, status = start_primary(app_home)
    if os.name == "posix":  # what a user types; it copies the live socket file too
        subprocess.run(["cp", "-a", str(app_home.home), str(copied_home.home)], check=True)
    else:
        shutil.copytree(app_home.home, copied_home.home)
    copied_home.download_dir = copied_home.home / "dl"

    if how == "--cleanup":
        result = copied_home.run("--cleanup")
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    else:
        start_primary(copied_home)
        assert len(copied_home.aria2c_processes()) == 1

    assert aria2c_pids(app_home) == {status["aria2c_pid"]}
    assert app_home.wait_ready()["aria2c_pid"] == status["aria2c_pid"]
    assert primary.poll() is None


@needs_root
def test_cleanup_by_a_user_never_touches_another_users_aria2c(
    app_home: AppHome, planted: Planted
) -> None:
    """Item 8 of issue 8: the record names root's aria2c; nobody's --cleanup leaves it alone.

    Before, the process passed every check (same conf path, pid, create time)
    and the stop ended in a raw AccessDenied traceback.
    """
    planted.decoy.stop()
    chown_tree(app_home.home, NOBODY)

    result = run_as_nobody(app_home, "--cleanup")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert planted.orphan.alive()  # root's, so not ours to stop
    assert "not ours" in result.stdout

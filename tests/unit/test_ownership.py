"""The ownership record is written atomically and never trusted when corrupt."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from aria2_core.ownership import (
    OwnershipRecord,
    announce_start,
    clear_record,
    read_record,
    write_record,
)
from aria2_core.paths import AppPaths

RECORD = OwnershipRecord(
    pid=1234,
    create_time=1.5,
    exe="/x/aria2c",
    conf_path="/h/engine/aria2.conf",
    port=6801,
    app_pid=99,
)


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    p = AppPaths.for_home(tmp_path / "home")
    p.ensure()
    return p


def test_round_trip(paths: AppPaths) -> None:
    assert read_record(paths) is None
    write_record(paths, RECORD)
    assert read_record(paths) == RECORD
    assert not list(paths.engine_dir.glob("*.tmp"))


@pytest.mark.parametrize("text", ["", "{", "[]", '{"pid": "x"}', json.dumps({"pid": 1})])
def test_corrupt_record_is_ignored(paths: AppPaths, text: str) -> None:
    paths.ownership_file.write_text(text)
    assert read_record(paths) is None


def test_clear_only_if_it_still_names_the_pid(paths: AppPaths) -> None:
    write_record(paths, RECORD)
    clear_record(paths, only_pid=4321)
    assert read_record(paths) == RECORD
    clear_record(paths, only_pid=1234)
    assert read_record(paths) is None
    clear_record(paths)  # clearing nothing is fine


def test_an_announced_start_names_this_app_and_its_birth(paths: AppPaths) -> None:
    announce_start(paths)
    record = read_record(paths)
    assert record is not None and record.pending
    me = psutil.Process()
    assert (record.app_pid, record.app_create_time) == (me.pid, me.create_time())
    assert record.conf_path == str(paths.conf_file)


def test_clear_only_what_this_app_wrote(paths: AppPaths) -> None:
    write_record(paths, RECORD)
    clear_record(paths, only_app=RECORD.app_pid + 1)
    assert read_record(paths) == RECORD
    clear_record(paths, only_app=RECORD.app_pid)
    assert read_record(paths) is None


def test_a_record_without_the_apps_birth_still_reads(paths: AppPaths) -> None:
    """Written before the app's creation time was kept: it vouches for its pid alone."""
    write_record(paths, RECORD)
    data = json.loads(paths.ownership_file.read_text())
    del data["app_create_time"]
    paths.ownership_file.write_text(json.dumps(data))
    assert read_record(paths) == RECORD
    assert RECORD.app_create_time is None and not RECORD.pending

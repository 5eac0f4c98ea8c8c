"""The ownership record is written atomically and never trusted when corrupt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aria2_core.ownership import OwnershipRecord, clear_record, read_record, write_record
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

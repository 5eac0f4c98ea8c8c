"""``atomic_file.write_atomic``: durable by default, and not where durability buys nothing.

Real files in a temporary folder; ``os.fsync`` is wrapped only to count calls.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from aria2_core.atomic_file import write_atomic
from aria2_core.config import write_private_file


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


def test_a_durable_write_syncs_the_file_and_its_folder(tmp_path: Path, fsyncs: list[int]) -> None:
    target = tmp_path / "history.json"
    target.write_bytes(b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    # The folder's fsync makes the rename durable; Windows has no such call.
    assert len(fsyncs) == (1 if sys.platform == "win32" else 2)


def test_a_file_remade_at_every_start_is_replaced_whole_without_a_sync(
    tmp_path: Path, fsyncs: list[int]
) -> None:
    """The conf, the ownership record, an empty session: a power cut ends aria2c
    too, and the next start writes them again, so an fsync before each launch
    would only make every start wait for the disk (tens of ms on a spinning one)."""
    target = tmp_path / "engine" / "aria2.conf"
    write_private_file(target, "rpc-secret=a\n")
    write_private_file(target, "rpc-secret=b\n")
    assert target.read_text() == "rpc-secret=b\n"
    assert fsyncs == []
    assert [p.name for p in target.parent.iterdir()] == ["aria2.conf"]  # no temporary left
    if sys.platform != "win32":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600

"""The start-up's scan: the session restore is skipped only when it has nothing to do."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from aria2_core import config
from aria2_core.paths import AppPaths
from aria2_core.session_scan import restore_may_act


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    home = AppPaths.for_home(tmp_path / "home")
    home.ensure()
    return home


def test_no_ledger_and_plain_links_need_no_restore(paths: AppPaths) -> None:
    assert not restore_may_act(paths)  # no session file yet
    paths.session_file.write_text(
        "http://example.com/a.iso\n gid=0123456789abcdef\n dir=/dl\n"
        "magnet:?xt=urn:btih:" + "a" * 40 + "\n gid=fedcba9876543210\n"
    )
    assert not restore_may_act(paths)


def test_a_ledger_means_the_restore_runs(paths: AppPaths) -> None:
    paths.session_file.write_text("")
    paths.ledger_file.write_text('{"version": 1, "origins": []}')
    assert restore_may_act(paths)


def test_an_entry_naming_an_aria2_copy_means_the_restore_runs(paths: AppPaths) -> None:
    sha1 = hashlib.sha1(b"d4:infod4:name1:aee").hexdigest()
    paths.session_file.write_text(f"/dl/{sha1}.torrent\n gid=0123456789abcdef\n")
    assert restore_may_act(paths)
    paths.session_file.write_text(f"/dl/{sha1}.meta4\n")
    assert restore_may_act(paths)


def test_ensure_session_file_skips_the_restore_module_when_there_is_nothing(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import aria2_core

    monkeypatch.delitem(sys.modules, "aria2_core.session_restore", raising=False)
    monkeypatch.delattr(aria2_core, "session_restore", raising=False)
    config.ensure_session_file(paths)
    assert paths.session_file.read_text() == ""
    assert "aria2_core.session_restore" not in sys.modules
    paths.ledger_file.write_text('{"version": 1, "origins": []}')
    config.ensure_session_file(paths)
    assert "aria2_core.session_restore" in sys.modules

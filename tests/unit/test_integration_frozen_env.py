"""What a frozen build hands to aria2c and to every other program it starts."""

from __future__ import annotations

import os

import pytest

from desktop.frozen_env import (
    attach_parent_console,
    child_environment,
    restore_process_environment,
)
from support.platforms import only_on

BUNDLE = "/opt/AriaTray/_internal"


def bootloader_env(original: str | None) -> dict[str, str]:
    """The environment as PyInstaller's Linux bootloader leaves it."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/me",
        "LD_LIBRARY_PATH": f"{BUNDLE}:{original}" if original else BUNDLE,
        "_PYI_ARCHIVE_FILE": "/opt/AriaTray/AriaTray",
        "_PYI_PARENT_PROCESS_LEVEL": "1",
        "ARIA_TRAY_HOME": "/home/me/portable",
    }
    if original:
        env["LD_LIBRARY_PATH_ORIG"] = original
    return env


def test_frozen_child_gets_the_users_library_path_back() -> None:
    env = child_environment(bootloader_env("/opt/cuda/lib"), frozen=True)
    assert env["LD_LIBRARY_PATH"] == "/opt/cuda/lib"
    assert "LD_LIBRARY_PATH_ORIG" not in env
    assert not [name for name in env if name.startswith("_PYI_")]
    assert "ARIA_TRAY_HOME" not in env
    assert env["PATH"] == "/usr/bin:/bin" and env["HOME"] == "/home/me"


def test_frozen_child_has_no_library_path_when_the_user_had_none() -> None:
    env = child_environment(bootloader_env(None), frozen=True)
    assert "LD_LIBRARY_PATH" not in env


def test_source_run_passes_the_library_path_through() -> None:
    env = child_environment({"LD_LIBRARY_PATH": "/mine", "ARIA_TRAY_HOME": "/h"}, frozen=False)
    assert env == {"LD_LIBRARY_PATH": "/mine"}


@only_on("linux", "LD_LIBRARY_PATH")
def test_restoring_the_process_environment_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in bootloader_env("/opt/cuda/lib").items():
        monkeypatch.setenv(name, value)
    restore_process_environment(frozen=True)
    restore_process_environment(frozen=True)
    assert os.environ["LD_LIBRARY_PATH"] == "/opt/cuda/lib"
    # A child started afterwards still sees the same, user's, value.
    assert child_environment(os.environ, frozen=True)["LD_LIBRARY_PATH"] == "/opt/cuda/lib"


def test_restoring_does_nothing_from_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LD_LIBRARY_PATH", "/mine")
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG", raising=False)
    restore_process_environment(frozen=False)
    assert os.environ["LD_LIBRARY_PATH"] == "/mine"


def test_only_a_streamless_windows_launch_borrows_a_console() -> None:
    # Under pytest sys.stdout exists, and elsewhere than Windows nothing is attached.
    assert attach_parent_console(["--status"]) is False
    assert attach_parent_console([]) is False

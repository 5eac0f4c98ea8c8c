"""The aria2c command/config builder keeps its promises on disk."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from aria2_core.config import (
    FORBIDDEN_OPTIONS,
    EngineSettings,
    build_launch,
    check_rendered,
    validate_extra_options,
)
from aria2_core.errors import ConfigError
from aria2_core.paths import AppPaths


def _conf(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs if not k.startswith("#")}


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    p = AppPaths.for_home(tmp_path / "home")
    p.ensure()
    return p


def test_secret_and_rpc_settings_live_in_private_conf(paths: AppPaths, tmp_path: Path) -> None:
    settings = EngineSettings(download_dir=tmp_path / "dl")
    spec = build_launch(Path("/bin/aria2c"), paths, settings, port=41234, owner_pid=4321)
    conf = _conf(spec.conf_path)
    assert conf["rpc-secret"] == spec.secret
    assert len(spec.secret) >= 32
    assert conf["enable-rpc"] == "true"
    assert conf["rpc-listen-all"] == "false"
    assert conf["daemon"] == "false"
    assert conf["rpc-listen-port"] == "41234"
    assert conf["input-file"] == conf["save-session"] == str(paths.session_file)
    assert int(conf["save-session-interval"]) >= 1
    assert not any(spec.secret in arg for arg in spec.arguments)
    assert spec.arguments == [f"--conf-path={paths.conf_file}", "--stop-with-process=4321"]
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(spec.conf_path).st_mode) == 0o600


def test_each_launch_gets_a_fresh_secret(paths: AppPaths) -> None:
    first = build_launch(Path("/bin/aria2c"), paths, EngineSettings(), 1, 1)
    second = build_launch(Path("/bin/aria2c"), paths, EngineSettings(), 1, 1)
    assert first.secret != second.secret
    assert _conf(paths.conf_file)["rpc-secret"] == second.secret


def test_session_file_is_created_empty_when_missing(paths: AppPaths) -> None:
    assert not paths.session_file.exists()
    build_launch(Path("/bin/aria2c"), paths, EngineSettings(), 1, 1)
    assert paths.session_file.read_text() == ""


def test_existing_session_is_kept(paths: AppPaths) -> None:
    paths.session_file.write_text("http://example.org/a\n gid=0123456789abcdef\n")
    build_launch(Path("/bin/aria2c"), paths, EngineSettings(), 1, 1)
    assert "example.org" in paths.session_file.read_text()


@pytest.mark.parametrize("option", sorted(FORBIDDEN_OPTIONS))
def test_forbidden_extra_options_are_rejected(option: str) -> None:
    with pytest.raises(ConfigError, match=option):
        validate_extra_options({option: "x"})


def test_forbidden_option_cannot_sneak_in_with_dashes(paths: AppPaths) -> None:
    settings = EngineSettings(extra_options={"--rpc-listen-all": "true"})
    with pytest.raises(ConfigError, match="rpc-listen-all"):
        build_launch(Path("/bin/aria2c"), paths, settings, 1, 1)


def test_extra_options_are_written_and_cannot_override_ours(paths: AppPaths) -> None:
    settings = EngineSettings(extra_options={"max-overall-download-limit": "1M"})
    build_launch(Path("/bin/aria2c"), paths, settings, 5555, 1)
    conf = _conf(paths.conf_file)
    assert conf["max-overall-download-limit"] == "1M"
    assert conf["rpc-listen-port"] == "5555"


@pytest.mark.parametrize("bad", [{"": "1"}, {"a b": "1"}, {"x=y": "1"}, {"ok": "multi\nline"}])
def test_malformed_extra_options_are_rejected(bad: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        validate_extra_options(bad)


def test_rendered_conf_is_read_back_and_forbidden_options_must_be_ours() -> None:
    owned = {"rpc-listen-all": "false"}
    options = {"split": "4", **owned}
    check_rendered("split=4\nrpc-listen-all=false\n", options, owned)
    with pytest.raises(ConfigError, match="unexpected line"):
        check_rendered("split=4\nrpc-listen-all=true\nrpc-listen-all=false\n", options, owned)
    with pytest.raises(ConfigError, match="rpc-listen-all"):
        check_rendered(
            "split=4\nrpc-listen-all=true\n", {"split": "4", "rpc-listen-all": "true"}, owned
        )
    with pytest.raises(ConfigError, match="not say what the settings say"):
        check_rendered("split=4\r\non-download-complete=/x.sh\n", {"split": "4"}, {})


@pytest.mark.parametrize(
    "value", ["ua\non-download-complete=/x.sh", "a\rb", "a\tb", "a\x00b", "a\x7fb"]
)
def test_control_characters_in_typed_settings_are_refused(paths: AppPaths, value: str) -> None:
    with pytest.raises(ConfigError, match="control character"):
        build_launch(Path("/bin/aria2c"), paths, EngineSettings(user_agent=value), 1, 1)
    assert not paths.conf_file.exists()

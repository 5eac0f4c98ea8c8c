"""The Qt-free settings pieces: live-or-restart planning, extra options, add options."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aria2_core.add_options import (
    BAD_CHECKSUM_DIGEST,
    BAD_CHECKSUM_FORMAT,
    BAD_CHECKSUM_TYPE,
    BAD_HEADER,
    CHECKSUM_NEEDS_ONE_LINK,
    FILE_NAME_NEEDS_ONE_LINK,
    AddFields,
    build_options,
    normalize_checksum,
)
from aria2_core.binary import find_aria2c
from aria2_core.config import EngineSettings, build_launch, user_options
from aria2_core.live_options import RESTART_BINARY, RESTART_NOT_LIVE, RESTART_UNSET, plan_change
from aria2_core.option_catalog import (
    PROBLEM_DUPLICATE,
    PROBLEM_FORBIDDEN,
    PROBLEM_RESERVED,
    PROBLEM_SYNTAX,
    PROBLEM_UNKNOWN,
    check_extra_lines,
    known_options,
    parse_help,
)
from aria2_core.paths import AppPaths

SHA = "ab" * 32


# -- live or restart ---------------------------------------------------------------
def test_typed_settings_change_live() -> None:
    old = EngineSettings(download_dir=Path("/a"))
    new = EngineSettings(
        download_dir=Path("/b"),
        split=3,
        max_overall_download_limit=1_000_000,
        seed_ratio=0.0,
        seed_time=30,
        user_agent="UA",
        all_proxy="http://p:1",
    )
    change = plan_change(old, new)
    assert not change.needs_restart
    assert change.live == {
        "dir": str(Path("/b")),
        "split": "3",
        "max-overall-download-limit": "1000000",
        "seed-ratio": "0.0",
        "seed-time": "30.0",
        "user-agent": "UA",
        "all-proxy": "http://p:1",
    }


def test_what_needs_a_restart() -> None:
    old = EngineSettings(extra_options={"max-tries": "3", "disk-cache": "16M"}, seed_time=5)
    new = EngineSettings(extra_options={"max-tries": "4", "rlimit-nofile": "1024"}, seed_time=None)
    new.binary_override = "/opt/aria2c"
    change = plan_change(old, new)
    assert change.live == {"max-tries": "4"}
    kinds = [(r.kind, r.option) for r in change.restart]
    assert (RESTART_BINARY, "") in kinds
    assert (RESTART_NOT_LIVE, "rlimit-nofile") in kinds
    assert (RESTART_UNSET, "disk-cache") in kinds
    assert (RESTART_UNSET, "seed-time") in kinds


def test_clearing_the_proxy_is_live() -> None:
    change = plan_change(EngineSettings(all_proxy="http://p:1"), EngineSettings())
    assert change.live == {"all-proxy": ""} and not change.needs_restart


def test_the_conf_file_holds_the_typed_settings(tmp_path: Path) -> None:
    paths = AppPaths.for_home(tmp_path / "home")
    paths.ensure()
    settings = EngineSettings(
        download_dir=tmp_path, max_overall_upload_limit=5, user_agent="U", seed_time=None
    )
    spec = build_launch(Path("/bin/aria2c"), paths, settings, port=41234, owner_pid=1)
    lines = spec.conf_path.read_text().splitlines()
    for key, value in user_options(settings).items():
        assert f"{key}={value}" in lines
    assert not any(line.startswith(("seed-time=", "all-proxy=")) for line in lines)


def test_seeding_has_limits_and_never_takes_a_download_slot(tmp_path: Path) -> None:
    """Issue 9, item 21: a seed stops by itself and an HTTP download never queues behind it."""
    paths = AppPaths.for_home(tmp_path / "home")
    paths.ensure()
    spec = build_launch(Path("/bin/aria2c"), paths, EngineSettings(), port=41234, owner_pid=1)
    lines = spec.conf_path.read_text().splitlines()
    assert "seed-ratio=1.0" in lines and "seed-time=60.0" in lines
    assert "bt-detach-seed-only=true" in lines


# -- extra options ----------------------------------------------------------------
def test_option_names_come_from_the_binary_and_are_cached(tmp_path: Path) -> None:
    binary = find_aria2c()
    cache = tmp_path / "engine" / "aria2c-options.json"
    names = known_options(binary, cache)
    assert {"dir", "max-tries", "split", "rpc-secret", "all-proxy"} <= names
    assert not any(name.startswith(("help=", "#")) for name in names)
    assert cache.is_file()
    if os.name == "posix":
        assert cache.stat().st_mode & 0o777 == 0o600
    # The cache answers for the same binary; a changed binary is read again.
    text = cache.read_text().replace('"max-tries"', '"max-tries-from-cache"')
    cache.write_text(text)
    assert "max-tries-from-cache" in known_options(binary, cache)
    fake = tmp_path / "aria2c"
    fake.write_bytes(binary.read_bytes())
    fake.chmod(0o755)
    assert "max-tries" in known_options(fake, cache)


def test_parse_help_reads_only_option_lines() -> None:
    text = (
        " -d, --dir=DIR                The directory to store the downloaded file.\n"
        '                              type "--help=#http" for more\n'
        " --all-proxy=PROXY            Use a proxy server for all protocols.\n"
    )
    assert parse_help(text) == frozenset({"dir", "all-proxy"})


def test_extra_option_lines_get_one_problem_each() -> None:
    known = frozenset({"max-tries", "split", "rpc-secret", "header"})
    text = (
        "# comment\nmax-tries=3\n--rpc-secret=x\nmax-trys=4\nnot an option\nsplit=2\nmax-tries=5\n"
    )
    check = check_extra_lines(text, known, reserved={"split"})
    assert check.options == {"max-tries": "3"}
    assert [(p.line, p.kind, p.key) for p in check.problems] == [
        (3, PROBLEM_FORBIDDEN, "rpc-secret"),
        (4, PROBLEM_UNKNOWN, "max-trys"),
        (5, PROBLEM_SYNTAX, "not an option"),
        (6, PROBLEM_RESERVED, "split"),
        (7, PROBLEM_DUPLICATE, "max-tries"),
    ]
    # Without a binary at hand only shape, forbidden names and duplicates count.
    assert check_extra_lines("max-trys=4\nstop=1\n").options == {"max-trys": "4"}


# -- add dialog options -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"sha-256={SHA}", f"sha-256={SHA}"),
        (f"SHA256 = {SHA.upper()}", f"sha-256={SHA}"),
        ("md5=" + "0" * 32, "md5=" + "0" * 32),
    ],
)
def test_checksums_are_normalised(text: str, expected: str) -> None:
    assert normalize_checksum(text) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (SHA, BAD_CHECKSUM_FORMAT),
        ("sha-256=", BAD_CHECKSUM_FORMAT),
        (f"crc32={SHA}", BAD_CHECKSUM_TYPE),
        ("sha-256=abc", BAD_CHECKSUM_DIGEST),
        ("sha-256=" + "zz" * 32, BAD_CHECKSUM_DIGEST),
    ],
)
def test_bad_checksums_say_what_is_wrong(text: str, kind: str) -> None:
    with pytest.raises(ValueError, match=kind):
        normalize_checksum(text)


def test_add_fields_become_aria2_options(tmp_path: Path) -> None:
    fields = AddFields(
        folder=str(tmp_path),
        file_name="renamed.iso",
        connections=4,
        split=2,
        referer="http://ref/",
        user_agent="UA/1",
        cookie="a=1; b=2",
        headers=["X-Token: t", "", "Accept: */*"],
        checksum=f"sha-256={SHA}",
        paused=True,
    )
    options, problems = build_options(fields, link_count=1)
    assert problems == []
    assert options == {
        "dir": str(tmp_path),
        "out": "renamed.iso",
        "max-connection-per-server": "4",
        "split": "2",
        "referer": "http://ref/",
        "user-agent": "UA/1",
        "header": ["Cookie: a=1; b=2", "X-Token: t", "Accept: */*"],
        "checksum": f"sha-256={SHA}",
        "pause": "true",
    }


def test_add_fields_problems() -> None:
    fields = AddFields(file_name="x.iso", headers=["no colon here"], checksum=f"sha-256={SHA}")
    _options, problems = build_options(fields, link_count=2)
    assert {(p.field, p.kind) for p in problems} == {
        ("file_name", FILE_NAME_NEEDS_ONE_LINK),
        ("headers", BAD_HEADER),
        ("checksum", CHECKSUM_NEEDS_ONE_LINK),
    }
    assert build_options(AddFields(), link_count=5) == ({}, [])

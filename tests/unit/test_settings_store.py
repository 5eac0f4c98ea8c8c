"""Settings in the app home's INI file: round trip, restart, env overrides, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.settings import AppSettings, SettingsStore, engine_settings, env_overrides


def full_settings(tmp_path: Path) -> AppSettings:
    return AppSettings(
        download_dir=str(tmp_path / "下载 folder"),
        max_concurrent_downloads=3,
        max_connection_per_server=12,
        split=16,
        download_limit=2_000_000,
        upload_limit=100_000,
        seed_ratio=1.5,
        seed_time=42.5,
        user_agent='Mozilla/5.0 (X11; "quoted", comma)',
        proxy="http://user:pw@proxy:3128",
        start_minimized=False,
        start_at_login=True,
        notifications=False,
        language="zh_CN",
        aria2c_path="/opt/aria2/aria2c",
        extra_options={"max-tries": "10", "header": "X-A: b, c", "min-split-size": "4M"},
        add_folder=str(tmp_path / "last"),
        drop_zone_visible=True,
        drop_zone_pos=(-20, 300),
    )


def test_round_trip_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "home" / "settings.ini"
    path.parent.mkdir()
    settings = full_settings(tmp_path)
    SettingsStore(path).save(settings)
    # A new store on the same file (the next run of the app) reads the same values.
    assert SettingsStore(path).load() == settings
    # A plain INI file a person can read (Qt orders the sections differently per platform).
    lines = path.read_text(encoding="utf-8").splitlines()
    assert {"[app]", "[engine]", "[ui]"} <= set(lines)


def test_defaults_when_there_is_no_file(tmp_path: Path) -> None:
    loaded = SettingsStore(tmp_path / "settings.ini").load()
    assert loaded == AppSettings()
    assert loaded.start_minimized and loaded.notifications and loaded.seed_time == 60.0


def test_a_hand_edited_file_with_bad_values_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    path.write_text(
        "[engine]\n"
        "max_connection_per_server=99\n"
        "split=zero\n"
        "seed_time=-3\n"
        'extra_options="max-tries=3", "rpc-secret=stolen", "garbage"\n'
        "[app]\nlanguage=klingon\n"
        "[ui]\ndrop_zone_pos=1, x\n",
        encoding="utf-8",
    )
    loaded = SettingsStore(path).load()
    assert loaded.max_connection_per_server == 16  # clamped to aria2's maximum
    assert loaded.split == AppSettings().split
    assert loaded.seed_time is None
    assert loaded.extra_options == {"max-tries": "3"}  # the forbidden one is dropped
    assert loaded.language == ""
    assert loaded.drop_zone_pos is None


def test_unwritable_file_raises(tmp_path: Path) -> None:
    blocked = tmp_path / "settings.ini"
    blocked.mkdir()  # a folder where the file should be: no user, root included, can write it
    with pytest.raises(OSError, match="cannot write"):
        SettingsStore(blocked).save(AppSettings())


def test_engine_settings_put_the_environment_on_top(tmp_path: Path) -> None:
    settings = full_settings(tmp_path)
    plain = engine_settings(settings, environ={})
    assert plain.download_dir == Path(settings.download_dir)
    assert plain.max_overall_download_limit == 2_000_000
    assert plain.all_proxy == settings.proxy and plain.seed_time == 42.5
    assert plain.binary_override == "/opt/aria2/aria2c" and plain.preferred_port is None
    env = {
        "ARIA_TRAY_DOWNLOAD_DIR": str(tmp_path / "env-dl"),
        "ARIA_TRAY_RPC_PORT": "6899",
        "ARIA_TRAY_ARIA2C": "/env/aria2c",
    }
    over = engine_settings(settings, environ=env)
    assert over.download_dir == tmp_path / "env-dl"
    assert over.preferred_port == 6899
    assert over.binary_override == "/env/aria2c"
    assert env_overrides(env) == {
        "download_dir": "ARIA_TRAY_DOWNLOAD_DIR",
        "aria2c_path": "ARIA_TRAY_ARIA2C",
    }


def test_extra_options_that_duplicate_a_field_are_not_passed_on(tmp_path: Path) -> None:
    settings = AppSettings(extra_options={"split": "2", "max-tries": "4"})
    assert engine_settings(settings, environ={}).extra_options == {"max-tries": "4"}


def test_no_seed_time_limit_is_a_choice_that_is_kept(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.ini")
    store.save(AppSettings(seed_time=None))
    assert store.load().seed_time is None
    store.save(AppSettings(seed_time=15.0))
    assert store.load().seed_time == 15.0

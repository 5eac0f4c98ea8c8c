"""Start at login: the XDG autostart entry on Linux, the HKCU Run value on Windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop import autostart, xdg_files
from support.platforms import only_on

COMMAND = ["/opt/Aria Tray/AriaTray"]


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("ARIA_TRAY_HOME", raising=False)
    return home


@only_on("linux", "XDG autostart")
def test_enable_writes_an_autostart_entry_and_disable_removes_it(config_home: Path) -> None:
    assert not autostart.is_enabled()

    autostart.enable(COMMAND)
    autostart.enable(COMMAND)  # idempotent

    entry = config_home / "autostart" / "aria-tray.desktop"
    text = entry.read_text(encoding="utf-8")
    assert xdg_files.read_desktop_key(text, "Exec") == '"/opt/Aria Tray/AriaTray"'
    assert xdg_files.read_desktop_key(text, "Type") == "Application"
    assert autostart.is_enabled()

    autostart.disable()
    autostart.disable()  # idempotent
    assert not entry.exists()
    assert (config_home / "autostart").is_dir()  # the user's folder stays
    assert not autostart.is_enabled()


@only_on("linux", "XDG autostart")
@pytest.mark.parametrize("line", ["Hidden=true", "X-GNOME-Autostart-enabled=false"])
def test_an_entry_the_desktop_switched_off_is_not_enabled(config_home: Path, line: str) -> None:
    autostart.enable(COMMAND)
    entry = config_home / "autostart" / "aria-tray.desktop"
    key = line.partition("=")[0]
    kept = [x for x in entry.read_text(encoding="utf-8").splitlines() if not x.startswith(key)]
    entry.write_text("\n".join([*kept, line]) + "\n", encoding="utf-8")
    assert not autostart.is_enabled()


@only_on("linux", "XDG autostart")
def test_a_portable_home_is_passed_on(config_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARIA_TRAY_HOME", "/media/stick/aria")
    autostart.enable(["/media/stick/AriaTray/AriaTray"])
    text = autostart.autostart_file().read_text(encoding="utf-8")
    assert xdg_files.read_desktop_key(text, "Exec") == (
        "env ARIA_TRAY_HOME=/media/stick/aria /media/stick/AriaTray/AriaTray"
    )


@pytest.mark.windows
@only_on("win32", "the HKCU Run key")
def test_windows_run_key_round_trip() -> None:
    import subprocess
    import winreg

    # CreateKeyEx opens with KEY_WRITE by default, which may not read: ask for what we do.
    with winreg.CreateKeyEx(
        winreg.HKEY_CURRENT_USER, autostart.RUN_KEY, 0, winreg.KEY_QUERY_VALUE
    ) as key:
        try:
            winreg.QueryValueEx(key, autostart.RUN_VALUE)
            pytest.skip("Aria Tray already starts at login for this user; not touching it")
        except FileNotFoundError:
            pass
    try:
        autostart.enable([r"C:\Program Files\AriaTray\AriaTray.exe"])
        assert autostart.is_enabled()
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, autostart.RUN_KEY) as key:
            value, kind = winreg.QueryValueEx(key, autostart.RUN_VALUE)
        assert kind == winreg.REG_SZ
        assert value == subprocess.list2cmdline([r"C:\Program Files\AriaTray\AriaTray.exe"])
        assert value.startswith('"')
    finally:
        autostart.disable()
    assert not autostart.is_enabled()

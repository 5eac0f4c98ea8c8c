"""Windows code paths, run on Windows only (CI's windows-latest); skipped elsewhere.

* registration writes and removes the HKCU ``Software\\Classes`` entries
  (below a throwaway key, so a developer's real associations are safe);
* the kill-on-close Job Object really holds a child and kills it when our
  handle closes (that is what ends aria2c when the app dies);
* the IPC pipe name is per user and per app home.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from aria2_core.paths import AppPaths
from aria2_core.win_user import current_user_sid
from support.platforms import only_on

pytestmark = [
    pytest.mark.windows,
    only_on("win32", "the HKCU registry and the user's SID"),
]

EXE = r"C:\Program Files\Aria Tray\AriaTray.exe"


@pytest.fixture
def classes() -> Iterator[str]:
    """A private stand-in for ``HKCU\\Software\\Classes``, deleted afterwards."""
    import winreg

    from desktop.integration_win import delete_tree

    token = uuid.uuid4().hex
    yield rf"Software\AriaTrayTests\{token}\Classes"
    delete_tree(r"Software\AriaTrayTests", token)
    try:  # the parent goes too, unless another run is using it
        winreg.DeleteKey(winreg.HKEY_CURRENT_USER, r"Software\AriaTrayTests")
    except OSError:
        pass


def _value(path: str, name: str = "") -> str | None:
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, path) as key:
            return winreg.QueryValueEx(key, name)[0]
    except FileNotFoundError:
        return None


def _exists(path: str) -> bool:
    import winreg

    try:
        winreg.OpenKey(winreg.HKEY_CURRENT_USER, path).Close()
    except FileNotFoundError:
        return False
    return True


def test_register_writes_progid_magnet_and_extensions(classes: str) -> None:
    from desktop.integration_win import PROGID, register_windows, unregister_windows

    register_windows([EXE], classes=classes)

    command = f'"{EXE}" "%1"'
    assert _value(rf"{classes}\{PROGID}\shell\open\command") == command
    assert _value(rf"{classes}\magnet") == "URL:Magnet link"
    assert _value(rf"{classes}\magnet", "URL Protocol") == ""
    assert _value(rf"{classes}\magnet\shell\open\command") == command
    for ext in (".torrent", ".metalink", ".meta4"):
        assert _value(rf"{classes}\{ext}") == PROGID
        assert _value(rf"{classes}\{ext}\OpenWithProgids", PROGID) == ""

    unregister_windows(classes=classes)

    for key in (PROGID, "magnet", ".torrent", ".metalink", ".meta4"):
        assert not _exists(rf"{classes}\{key}"), key


def test_unregister_leaves_other_programs_entries(classes: str) -> None:
    import winreg

    from desktop.integration_win import PROGID, register_windows, unregister_windows

    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, rf"{classes}\.torrent") as key:
        winreg.SetValueEx(key, "", 0, winreg.REG_SZ, "qBittorrent.File.Torrent")

    register_windows([EXE], classes=classes)
    assert _value(rf"{classes}\.torrent") == "qBittorrent.File.Torrent"  # not taken over
    assert _value(rf"{classes}\.torrent\OpenWithProgids", PROGID) == ""  # but offered
    # Another program takes magnet: links after us.
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, rf"{classes}\magnet\shell\open\command") as k:
        winreg.SetValueEx(k, "", 0, winreg.REG_SZ, r'"C:\Other\other.exe" "%1"')

    unregister_windows(classes=classes)

    assert _value(rf"{classes}\.torrent") == "qBittorrent.File.Torrent"
    assert not _exists(rf"{classes}\.torrent\OpenWithProgids")
    assert _value(rf"{classes}\magnet\shell\open\command") == r'"C:\Other\other.exe" "%1"'
    assert not _exists(rf"{classes}\{PROGID}")


def test_the_job_object_holds_the_child_and_kills_it_on_close() -> None:
    from desktop.win_job import assign_kill_on_close_job, close_job, is_process_in_job

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        job = assign_kill_on_close_job(child.pid)
        assert job is not None
        assert is_process_in_job(child.pid, job)
        assert not is_process_in_job(bystander.pid, job)

        close_job(job)  # what the kernel does when the app dies

        assert child.wait(5) is not None
        assert bystander.poll() is None
    finally:
        for proc in (child, bystander):
            if proc.poll() is None:
                proc.kill()
            proc.wait(5)


def test_pipe_names_are_per_user_and_per_home(tmp_path: Path) -> None:
    one = AppPaths.for_home(tmp_path / "one").server_name
    two = AppPaths.for_home(tmp_path / "two").server_name
    assert current_user_sid() in one
    assert one != two
    assert "\\" not in one and "/" not in one  # a pipe name, not a path


def test_browser_hosts_are_registered_and_the_launcher_answers(
    classes: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HKCU\\Software\\{Google\\Chrome, Microsoft\\Edge, Mozilla}\\NativeMessagingHosts (below a
    throwaway key), the manifests and the .cmd launcher the browser runs, in binary stdio."""
    import json

    from desktop.browser_hosts import (
        HOST_NAME,
        WINDOWS_KEYS,
        register_windows_hosts,
        unregister_windows_hosts,
    )
    from desktop.integration import Report
    from support.native_messaging import EXTENSION_ORIGIN, frame, unframe_all

    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    monkeypatch.delenv("ARIA_TRAY_HOME", raising=False)
    software = classes.rsplit("\\", 1)[0]  # Software\AriaTrayTests\<token>
    main_py = Path(__file__).resolve().parents[2] / "main.py"

    register_windows_hosts([sys.executable, str(main_py)], Report(), software=software)

    for browser, key in WINDOWS_KEYS.items():
        manifest_path = _value(rf"{software}{key[len('Software') :]}\{HOST_NAME}")
        assert manifest_path is not None, browser
        manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
        allowed = "allowed_extensions" if browser == "Firefox" else "allowed_origins"
        assert list(manifest) == ["name", "description", "path", "type", allowed]
    launcher = Path(manifest["path"])
    done = subprocess.run(
        [str(launcher), EXTENSION_ORIGIN, "--parent-window=0"],
        input=frame({"type": "ping", "extra": "\n\r\n"}) + frame({"type": "ping"}),
        capture_output=True,
        timeout=60,
    )
    replies = unframe_all(done.stdout)  # a \n turned into \r\n would tear these
    assert [r["status"] for r in replies] == ["refused", "ok"], done.stderr

    unregister_windows_hosts(Report(), software=software)

    for key in WINDOWS_KEYS.values():
        assert not _exists(rf"{software}{key[len('Software') :]}\{HOST_NAME}")
    assert not (tmp_path / "AriaTray" / "browser-host").exists()

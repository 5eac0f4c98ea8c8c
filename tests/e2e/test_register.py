"""``--register`` / ``--unregister`` as a user runs them, against a private desktop.

Linux: every launch gets its own ``XDG_DATA_HOME`` and ``XDG_CONFIG_HOME``
(and ``XDG_CURRENT_DESKTOP=X-Generic``, so xdg-utils takes its generic,
file-based path instead of asking a desktop session). The real ``xdg-mime``
then says which application is the default, and the real ``xdg-open`` hands
a magnet link to the running instance through the registered desktop file.
Unregistering must leave both folders exactly as they were, byte for byte.

xdg-utils (Debian package ``xdg-utils``) is needed for the xdg-mime and
xdg-open checks; they skip without it unless ``ARIA_TRAY_REQUIRE_TRAY=1``
(CI) says the desktop tools must be there.

Windows: the same through ``HKCU\\Software\\Classes`` (skipped elsewhere).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import counts, start_primary

from desktop import xdg_files
from desktop.resources import icon_path
from support.app_process import AppHome, launch_command, wait_until
from support.platforms import only_on

pytestmark = pytest.mark.e2e

DESKTOP_ID = "aria-tray.desktop"
MIME_TYPES = [
    "x-scheme-handler/magnet",
    "application/x-bittorrent",
    "application/metalink4+xml",
    "application/metalink+xml",
]
INFO_HASH = "c9e15763f722f23e98a29decdfae341b98d53056"
MAGNET = f"magnet:?xt=urn:btih:{INFO_HASH}&dn=aria-tray-register-test"
REQUIRE_ENV = "ARIA_TRAY_REQUIRE_TRAY"

linux_only = only_on("linux", "XDG desktop files and MIME handlers")


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{name} is missing (apt-get install xdg-utils)")
        pytest.skip(f"{name} is not installed (apt-get install xdg-utils)")
    return path


@dataclass
class XdgHome:
    """A private desktop: the XDG base folders every launch of the test uses."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def config(self) -> Path:
        return self.root / "config"

    def env(self) -> dict[str, str]:
        return {
            "XDG_DATA_HOME": str(self.data),
            "XDG_CONFIG_HOME": str(self.config),
            "XDG_CURRENT_DESKTOP": "X-Generic",
        }

    def tool_env(self) -> dict[str, str]:
        """For xdg-mime/xdg-open: no system-wide defaults, no desktop session to ask."""
        env = {**os.environ, **self.env()}
        env["XDG_DATA_DIRS"] = str(self.root / "no-system-data")
        env["XDG_CONFIG_DIRS"] = str(self.root / "no-system-config")
        for name in ("KDE_FULL_SESSION", "GNOME_DESKTOP_SESSION_ID", "MATE_DESKTOP_SESSION_ID"):
            env.pop(name, None)
        return env

    def default_for(self, mime: str) -> str:
        """What the real ``xdg-mime query default`` answers."""
        result = subprocess.run(
            [need_tool("xdg-mime"), "query", "default", mime],
            env=self.tool_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
        return result.stdout.strip()

    def listing(self) -> dict[str, str]:
        """Every folder and file below the root, files with a hash of their bytes."""
        found = {}
        for path in sorted(self.root.rglob("*")):
            rel = str(path.relative_to(self.root))
            if path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        return found


@pytest.fixture
def xdg(app_home: AppHome, tmp_path: Path) -> XdgHome:
    home = XdgHome(tmp_path / "desktop")
    home.data.mkdir(parents=True)
    home.config.mkdir(parents=True)
    app_home.extra_env.update(home.env())
    return home


def register(app_home: AppHome, *flags: str) -> None:
    for flag in flags:
        result = app_home.run(flag)
        assert result.returncode == 0, (flag, result.stdout, result.stderr)


def expected_exec(app_home: AppHome) -> str:
    command = ["env", f"ARIA_TRAY_HOME={app_home.home}", *launch_command()]
    return xdg_files.exec_line(command, "%U")


@linux_only
def test_register_then_unregister_leaves_the_desktop_as_it_was(
    app_home: AppHome, xdg: XdgHome
) -> None:
    before = xdg.listing()

    register(app_home, "--register")

    desktop = (xdg.data / "applications" / DESKTOP_ID).read_text(encoding="utf-8")
    assert xdg_files.read_desktop_key(desktop, "Type") == "Application"
    assert xdg_files.read_desktop_key(desktop, "Exec") == expected_exec(app_home)
    mime_key = xdg_files.read_desktop_key(desktop, "MimeType") or ""
    assert xdg_files.unescape_list(mime_key) == MIME_TYPES
    for size, suffix in (("256x256", ".png"), ("scalable", ".svg")):
        icon = xdg.data / "icons" / "hicolor" / size / "apps" / f"aria-tray{suffix}"
        assert icon.read_bytes() == icon_path(suffix=suffix).read_bytes()
    for mime in MIME_TYPES:
        assert xdg.default_for(mime) == DESKTOP_ID, mime

    register(app_home, "--register")  # again: still one registration, same record
    register(app_home, "--unregister")

    assert xdg.listing() == before
    assert xdg.default_for("x-scheme-handler/magnet") == ""


@linux_only
def test_unregister_keeps_the_users_files_and_gives_defaults_back(
    app_home: AppHome, xdg: XdgHome
) -> None:
    mimeapps = xdg.config / "mimeapps.list"
    mimeapps.write_text(
        "# my choices\n"
        "[Default Applications]\n"
        "text/html=firefox.desktop;\n"
        "x-scheme-handler/magnet=transmission-gtk.desktop;\n"
        "\n"
        "[Added Associations]\n"
        "application/x-bittorrent=deluge.desktop;\n",
        encoding="utf-8",
    )
    other = xdg.data / "applications" / "transmission-gtk.desktop"
    other.parent.mkdir(parents=True)
    other.write_text("[Desktop Entry]\nType=Application\nName=T\nExec=true %U\n")
    before = xdg.listing()

    register(app_home, "--register")
    defaults = xdg_files.defaults_of(mimeapps.read_text(encoding="utf-8"))
    assert defaults["x-scheme-handler/magnet"] == DESKTOP_ID
    assert defaults["text/html"] == "firefox.desktop"

    register(app_home, "--unregister")

    assert xdg.listing() == before


@linux_only
def test_without_xdg_mime_the_defaults_are_written_directly(
    app_home: AppHome, xdg: XdgHome, tmp_path: Path
) -> None:
    before = xdg.listing()
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    app_home.extra_env["PATH"] = str(empty_bin)  # no xdg-mime, no python, nothing

    register(app_home, "--register")

    text = (xdg.config / "mimeapps.list").read_text(encoding="utf-8")
    assert xdg_files.defaults_of(text) == dict.fromkeys(MIME_TYPES, DESKTOP_ID)
    # The real xdg-mime understands what we wrote ourselves.
    assert xdg.default_for("application/x-bittorrent") == DESKTOP_ID

    register(app_home, "--unregister")
    assert xdg.listing() == before


@linux_only
def test_xdg_open_hands_a_magnet_link_to_the_running_instance(
    app_home: AppHome, xdg: XdgHome
) -> None:
    xdg_open = need_tool("xdg-open")
    start_primary(app_home)
    register(app_home, "--register")

    env = xdg.tool_env()
    env["DISPLAY"] = env.get("DISPLAY") or ":0"  # xdg-open only asks x-scheme-handler with one
    opened = subprocess.run([xdg_open, MAGNET], env=env, capture_output=True, text=True, timeout=60)

    assert opened.returncode == 0, (opened.stdout, opened.stderr)

    def known_hashes() -> set[str]:
        with app_home.rpc() as client:
            tasks = client.tell_active(["infoHash"]) + client.tell_waiting(0, 100, ["infoHash"])
        return {t.get("infoHash", "") for t in tasks}

    wait_until(lambda: INFO_HASH in known_hashes(), 15)
    assert counts(app_home) == (1, 1)  # forwarded, not a second instance
    register(app_home, "--unregister")


@pytest.mark.windows
@only_on("win32", "HKCU\\Software\\Classes")
def test_windows_register_and_unregister_through_the_command_line(app_home: AppHome) -> None:
    import winreg

    progid = r"Software\Classes\AriaTray.Download"
    try:
        winreg.OpenKey(winreg.HKEY_CURRENT_USER, progid).Close()
        pytest.skip("Aria Tray is registered for this user already; not touching it")
    except FileNotFoundError:
        pass
    try:
        register(app_home, "--register")
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, rf"{progid}\shell\open\command") as key:
            command = winreg.QueryValueEx(key, "")[0]
        assert command.endswith('"%1"')
        assert Path(launch_command()[-1]).name in command
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, r"Software\Classes\magnet") as key:
            assert winreg.QueryValueEx(key, "URL Protocol")[0] == ""
    finally:
        register(app_home, "--unregister")
    with pytest.raises(FileNotFoundError):
        winreg.OpenKey(winreg.HKEY_CURRENT_USER, progid)

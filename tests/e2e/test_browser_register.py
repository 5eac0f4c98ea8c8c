"""``--register`` installs the native messaging host for the browsers found; ``--unregister``
removes exactly that. The launcher it writes is what the browser runs: it must answer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from test_register import XdgHome, register

from desktop.browser_hosts import CHROMIUM_EXTENSION_ID, FIREFOX_EXTENSION_ID, HOST_NAME
from support.app_process import REPO, AppHome
from support.native_messaging import EXTENSION_ORIGIN, frame, unframe_all
from support.platforms import only_on

pytestmark = [
    pytest.mark.e2e,
    only_on("linux", "the Linux browsers' native-messaging folders"),
]


def chromium_id(public_key_b64: str) -> str:
    """Chromium's extension ID: sha256 of the DER public key, first 32 hex digits as a-p."""
    digest = hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def test_the_pinned_key_gives_the_id_the_host_allows() -> None:
    manifest = json.loads((REPO / "resources" / "browser" / "manifest.json").read_text())
    assert chromium_id(manifest["key"]) == CHROMIUM_EXTENSION_ID
    assert f"chrome-extension://{CHROMIUM_EXTENSION_ID}/" == EXTENSION_ORIGIN
    assert manifest["browser_specific_settings"]["gecko"]["id"] == FIREFOX_EXTENSION_ID


@pytest.fixture
def desktop(app_home: AppHome, tmp_path: Path) -> XdgHome:
    home = XdgHome(tmp_path / "desktop")
    home.data.mkdir(parents=True)
    home.config.mkdir(parents=True)
    app_home.extra_env.update(home.env())
    app_home.extra_env["HOME"] = str(home.root)
    return home


def test_register_writes_hosts_for_the_browsers_found_and_unregister_removes_them(
    app_home: AppHome, desktop: XdgHome
) -> None:
    chromium = desktop.config / "chromium"
    brave = desktop.config / "BraveSoftware" / "Brave-Browser"
    firefox = desktop.root / ".mozilla"
    for folder in (chromium, brave, firefox):
        folder.mkdir(parents=True)
    others = chromium / "NativeMessagingHosts" / "com.example.other.json"
    others.parent.mkdir()
    others.write_text('{"name": "com.example.other"}')
    before = desktop.listing()

    register(app_home, "--register")

    launcher = desktop.data / "aria-tray-browser" / "aria-tray-native-host"
    for folder in (chromium / "NativeMessagingHosts", brave / "NativeMessagingHosts"):
        manifest = json.loads((folder / f"{HOST_NAME}.json").read_text())
        assert manifest == {
            "name": HOST_NAME,
            "description": manifest["description"],
            "path": str(launcher),
            "type": "stdio",
            "allowed_origins": [EXTENSION_ORIGIN],
        }
    ff = json.loads((firefox / "native-messaging-hosts" / f"{HOST_NAME}.json").read_text())
    assert ff["allowed_extensions"] == [FIREFOX_EXTENSION_ID] and "allowed_origins" not in ff
    assert not (desktop.config / "google-chrome").exists()  # not installed: not touched
    assert not (desktop.config / "microsoft-edge").exists()

    # What the browser runs answers a ping (with the arguments Chromium adds).
    ping = subprocess.run(
        [str(launcher), EXTENSION_ORIGIN],
        input=frame({"type": "ping"}),
        capture_output=True,
        env=app_home.env(),
        timeout=30,
    )
    assert ping.returncode == 0, ping.stderr
    assert unframe_all(ping.stdout)[0]["status"] == "ok"

    register(app_home, "--register")  # again: the same files
    register(app_home, "--unregister")

    assert desktop.listing() == before
    assert others.read_text() == '{"name": "com.example.other"}'

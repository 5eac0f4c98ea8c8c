"""The extension in a real headless Chromium, talking to the real host and the real app.

Acceptance items:

* clicking a plain link, a cookie-protected one, a referrer-checked one and
  a redirect chain lands each file, whole (sha256), in Aria Tray's download
  folder, and the browser's own download is cancelled;
* "Download with Aria Tray" on a link: the context menu's handler, run in
  the extension's service worker over DevTools (headless Chromium shows no
  menu a test could click), through the real host to the real app;
* paused, or below the popup's size threshold, the browser keeps the download;
* with the host unregistered, the browser downloads the file itself and
  the popup's history says why;
* the cookie's value is nowhere in the app home or its log afterwards.

The host is registered by ``--register`` into the profile's
``NativeMessagingHosts`` folder: the profile is ``$XDG_CONFIG_HOME/chromium``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import start_primary
from test_native_host_e2e import _assert_secret_nowhere

from desktop.browser_hosts import CHROMIUM_EXTENSION_ID
from support.app_process import REPO, AppHome, wait_until
from support.chromium import CdpError, Chromium, find_chromium
from support.http_server import FileServer, Guard, Page, make_payload, sha256_of

pytestmark = pytest.mark.e2e

EXTENSION = REPO / "resources" / "browser"
COOKIE = "member=browser-c00kie-9d1e"
WORKER_URL = f"chrome-extension://{CHROMIUM_EXTENSION_ID}/background.js"
LINKS = {
    "plain": "files/plain.bin",
    "cookie": "members/secret.bin",
    "referrer": "ref/checked.bin",
    "redirect": "go/first",
}
INDEX = """<!doctype html><title>Downloads</title>
<a id="plain" href="/files/plain.bin">plain</a>
<a id="cookie" href="/members/secret.bin">members only</a>
<a id="referrer" href="/ref/checked.bin">needs referrer</a>
<a id="redirect" href="/go/first">redirected</a>
<a id="fallback" href="/files/fallback.bin">fallback</a>
<a id="paused" href="/files/paused.bin">while paused</a>
<a id="small" href="/files/small.bin">below the size threshold</a>
"""


def _chromium_or_skip() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("ARIA_TRAY_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is required here (ARIA_TRAY_REQUIRE_CHROMIUM) but not installed")
        pytest.skip("chromium is not installed (apt-get install chromium): browser e2e not run")
    return binary


class Site:
    """The loopback web site: four kinds of download link, and files to check them by."""

    def __init__(self, server: FileServer) -> None:
        self.server = server
        self.digests: dict[str, str] = {}
        for name, size in (
            ("files/plain.bin", 200_000),
            ("members/secret.bin", 300_000),
            ("ref/checked.bin", 150_000),
            ("final/redirected.bin", 250_000),
            ("files/menu.bin", 120_000),
            ("files/fallback.bin", 100_000),
            ("files/paused.bin", 90_000),
            ("files/small.bin", 80_000),
        ):
            _, self.digests[Path(name).name] = make_payload(server.root, name, size)
            server.attachments.add(name)
        server.pages["index.html"] = Page(INDEX)
        server.pages["login"] = Page.redirect("/index.html", ("Set-Cookie", f"{COOKIE}; Path=/"))
        server.pages["go/first"] = Page.redirect("/go/second")
        server.pages["go/second"] = Page.redirect(server.url("final/redirected.bin"))
        server.guards["members/secret.bin"] = Guard(cookie=COOKIE)
        server.guards["ref/checked.bin"] = Guard(referer=server.url("index.html"))


class Browser:
    """Chromium with the extension, a page session and the extension's worker session."""

    def __init__(self, chromium: Chromium, site: Site) -> None:
        self.chromium = chromium
        self.site = site
        wait_until(self._worker_target, 20)
        self.worker = chromium.attach(self._worker_target())
        wait_until(self._worker_ran, 20)
        self.page = chromium.open_page(site.server.url("login"))
        wait_until(lambda: self.page_eval("!!document.getElementById('plain')"), 20)

    def _worker_target(self) -> str:
        for target in self.chromium.targets():
            if target["type"] == "service_worker" and target["url"] == WORKER_URL:
                return str(target["targetId"])
        return ""

    def _worker_ran(self) -> bool:
        try:
            return self.worker_eval("typeof ariaTray") == "object"
        except CdpError:
            return False

    def page_eval(self, expression: str) -> object:
        return self.chromium.evaluate(self.page, expression)

    def click(self, element_id: str) -> None:
        """A real mouse click (pressed, released) in the middle of the element.

        Input events carry a user gesture; a scripted ``click()`` would not, and
        Chromium blocks a page's second download without one.
        """
        box = self.page_eval(
            f"(() => {{ const r = document.getElementById('{element_id}')"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        assert isinstance(box, list), box
        for kind in ("mousePressed", "mouseReleased"):
            self.chromium.call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
                self.page,
            )

    def worker_eval(self, expression: str) -> object:
        return self.chromium.evaluate(self.worker, expression)

    def history(self) -> list[dict[str, object]]:
        value = self.worker_eval("chrome.storage.local.get({history: []}).then(r => r.history)")
        return list(value) if isinstance(value, list) else []

    def event_for(self, name: str) -> dict[str, object] | None:
        return next((e for e in self.history() if e.get("name") == name), None)


@pytest.fixture
def browser_world(
    app_home: AppHome, http_server: FileServer, tmp_path: Path
) -> Iterator[tuple[Browser, Path]]:
    binary = _chromium_or_skip()
    config, data, home = tmp_path / "config", tmp_path / "data", tmp_path / "home"
    profile = config / "chromium"  # "a Chromium user folder": --register finds it
    for folder in (profile, data, home):
        folder.mkdir(parents=True)
    app_home.extra_env.update(
        {"XDG_CONFIG_HOME": str(config), "XDG_DATA_HOME": str(data), "HOME": str(home)}
    )
    registered = app_home.run("--register")
    assert registered.returncode == 0, registered.stderr
    assert (profile / "NativeMessagingHosts" / "org.ariatray.host.json").is_file()
    browser_downloads = tmp_path / "browser-downloads"
    browser_downloads.mkdir()
    site = Site(http_server)
    chromium = Chromium(binary, profile, EXTENSION, app_home.env(), tmp_path / "chromium.log")
    chromium.set_download_dir(browser_downloads)
    try:
        chromium.start()
        yield Browser(chromium, site), browser_downloads
    finally:
        chromium.stop()
        app_home.run("--unregister")


def _arrived(folder: Path, name: str, digest: str) -> bool:
    path = folder / name
    return path.is_file() and sha256_of(path) == digest


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_clicked_links_land_in_aria_tray_and_the_browser_falls_back_without_it(
    app_home: AppHome, browser_world: tuple[Browser, Path]
) -> None:
    browser, browser_downloads = browser_world
    site = browser.site
    start_primary(app_home)

    for link_id, path in LINKS.items():
        name = "redirected.bin" if link_id == "redirect" else Path(path).name
        browser.click(link_id)
        try:
            wait_until(lambda n=name: _arrived(app_home.download_dir, n, site.digests[n]), 45)
        except TimeoutError:
            raise AssertionError(
                f"{link_id}: {name} did not arrive; extension history {browser.history()}\n"
                f"app log:\n{app_home.log_text()}"
            ) from None
        event = wait_until(lambda n=name: browser.event_for(n), 15)
        assert event["kind"] == "sent", event
        # The browser's download was cancelled and erased: nothing of it is left.
        wait_until(lambda: not _leftovers(browser_downloads), 15)
        erased = browser.worker_eval(
            f"chrome.downloads.search({{filenameRegex: '{name}'}}).then(r => r.length)"
        )
        assert erased == 0

    # What the server saw: aria2 fetched the guarded files with the cookie and referrer.
    for path in ("members/secret.bin", "ref/checked.bin", "final/redirected.bin"):
        agents = {r.user_agent for r in site.server.requests_for(path)}
        assert any("Chrome" in agent for agent in agents), (path, agents)

    # Context menu "Download with Aria Tray" on a link (its handler, in the worker).
    menu_url = site.server.url("files/menu.bin")
    outcome = browser.worker_eval(
        "ariaTray.handleMenu({menuItemId: 'aria-tray-download', "
        f"linkUrl: {json.dumps(menu_url)}, pageUrl: {json.dumps(site.server.url('index.html'))}}},"
        " {id: -1})"
    )
    assert outcome == {"accepted": True, "reason": ""}
    wait_until(lambda: _arrived(app_home.download_dir, "menu.bin", site.digests["menu.bin"]), 30)

    # The popup's settings: paused, or below the size threshold, the browser keeps it.
    for link_id, settings in (("paused", "{paused: true}"), ("small", "{minSizeMB: 1}")):
        browser.worker_eval(f"chrome.storage.local.set({settings})")
        browser.click(link_id)
        name = f"{link_id}.bin"
        wait_until(lambda n=name: _arrived(browser_downloads, n, site.digests[n]), 30)
        assert browser.event_for(name) is None  # never offered to Aria Tray
        assert not (app_home.download_dir / name).exists()
        browser.worker_eval("chrome.storage.local.set({paused: false, minSizeMB: 0})")

    # Without the host registered, the browser downloads the file itself.
    unregistered = app_home.run("--unregister")
    assert unregistered.returncode == 0, unregistered.stderr
    browser.click("fallback")
    digest = site.digests["fallback.bin"]
    wait_until(lambda: _arrived(browser_downloads, "fallback.bin", digest), 45)
    event = wait_until(lambda: browser.event_for("fallback.bin"), 15)
    assert event["kind"] == "fallback" and event["reason"], event
    assert not (app_home.download_dir / "fallback.bin").exists()

    _assert_secret_nowhere(app_home, COOKIE.partition("=")[2])

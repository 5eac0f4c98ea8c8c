"""Photograph the browser extension's popup, in English and 简体中文, for the README.

Runs the real popup in headless Chromium with the extension loaded (so its
``chrome.i18n`` strings and its host check are real): a throwaway profile
gets our native host registered the way ``--register`` writes it, the
extension's history gets two sample events (one sent, one the browser kept),
and the popup page is captured at its natural size into
``resources/screenshots/browser-popup-<lang>.png``.

    .venv/bin/python tools/browser_popup_screenshot.py
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from desktop.browser_hosts import (  # noqa: E402
    CHROMIUM_EXTENSION_ID,
    HOST_NAME,
    host_manifest,
    launcher_script,
)
from support.chromium import CdpError, Chromium, find_chromium  # noqa: E402

OUT = ROOT / "resources" / "screenshots"
LANGUAGES = {"en": "en_US.UTF-8", "zh_CN": "zh_CN.UTF-8"}
SAMPLE_HISTORY = [
    {"kind": "sent", "name": "debian-13.1.0-amd64-netinst.iso", "url": "https://example.org/"},
    {
        "kind": "fallback",
        "name": "report.pdf",
        "url": "https://example.org/report.pdf",
        "reason": "Specified native messaging host not found.",
    },
]


def shoot(binary: str, language: str, locale: str, work: Path) -> Path:
    profile = work / language / "profile"
    hosts = profile / "NativeMessagingHosts"
    hosts.mkdir(parents=True)
    launcher = work / language / "host"
    launcher.write_text(launcher_script([sys.executable, str(ROOT / "main.py")], windows=False))
    launcher.chmod(0o755)
    manifest = host_manifest(launcher, firefox=False)
    (hosts / f"{HOST_NAME}.json").write_text(json.dumps(manifest))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANGUAGE": language, "LANG": locale}
    env["ARIA_TRAY_HOME"] = str(work / "home")
    lang = f"--lang={language.replace('_', '-')}"
    extension = ROOT / "resources" / "browser"
    browser = Chromium(binary, profile, extension, env, work / "chromium.log", (lang,))
    browser.start()
    try:
        worker_url = f"chrome-extension://{CHROMIUM_EXTENSION_ID}/background.js"
        deadline = time.monotonic() + 20
        worker = ""
        while not worker and time.monotonic() < deadline:
            worker = next((t["targetId"] for t in browser.targets() if t["url"] == worker_url), "")
            time.sleep(0.1)
        session = browser.attach(worker)
        while time.monotonic() < deadline:
            try:
                if browser.evaluate(session, "typeof ariaTray") == "object":
                    break  # background.js has run
            except CdpError:
                pass
            time.sleep(0.1)
        history = [{**e, "time": 0} for e in SAMPLE_HISTORY]
        browser.evaluate(session, f"chrome.storage.local.set({{history: {json.dumps(history)}}})")
        page = browser.open_page(f"chrome-extension://{CHROMIUM_EXTENSION_ID}/popup.html")
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 364, "height": 600, "deviceScaleFactor": 1, "mobile": False},
            page,
        )
        while time.monotonic() < deadline + 20:
            if browser.evaluate(page, "document.getElementById('host').className") != "status":
                break  # the host check answered (ok or not)
            time.sleep(0.1)
        height = browser.evaluate(page, "Math.ceil(document.body.getBoundingClientRect().bottom)")
        shot = browser.call(
            "Page.captureScreenshot",
            {"format": "png", "clip": {"x": 0, "y": 0, "width": 364, "height": height, "scale": 1}},
            page,
        )
    finally:
        browser.stop()
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"browser-popup-{language}.png"
    target.write_bytes(base64.b64decode(shot["data"]))
    return target


def main() -> int:
    binary = find_chromium()
    if binary is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="popup-shot-") as tmp:
        for language, locale in LANGUAGES.items():
            print(shoot(binary, language, locale, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

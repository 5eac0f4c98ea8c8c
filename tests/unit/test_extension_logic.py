"""The extension's decisions (resources/browser/logic.js), run in Node; its locales and manifest.

What to intercept (pause, size threshold, file types, our own fallback
downloads, schemes), what the context menu collects, and what goes to the
host. The e2e test runs the same file inside Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop.browser_hosts import HOST_NAME

BROWSER = Path(__file__).resolve().parents[2] / "resources" / "browser"


def run_logic(calls: list[tuple[str, list[Any]]]) -> list[Any]:
    """Call ``AriaTrayLogic[name](*args)`` for each pair in Node; return the results."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None and sys.platform == "win32":
        pytest.skip(
            "no node.exe on this Windows (the Wine test bed has none); logic.js has nothing "
            "OS-specific and runs in Node on Linux"
        )
    if node is None:
        pytest.skip("node is not installed (apt-get install nodejs): extension logic not run")
    script = (
        f"const L = require({json.dumps(str(BROWSER / 'logic.js'))});"
        f"const calls = {json.dumps(calls)};"
        "console.log(JSON.stringify(calls.map(([f, a]) => "
        "{ const r = L[f](...a); return r === undefined ? null : r; })));"
    )
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


ITEM = {"id": 1, "url": "https://example.org/a.zip", "filename": "a.zip", "totalBytes": 5_000_000}


def test_what_is_intercepted() -> None:
    cases: list[tuple[dict[str, Any], dict[str, Any], str]] = [
        (ITEM, {}, ""),
        (ITEM, {"paused": True}, "paused"),
        ({**ITEM, "byExtensionId": "me"}, {}, "ours"),
        ({**ITEM, "url": "blob:https://example.org/1"}, {}, "scheme"),
        ({**ITEM, "url": "data:text/plain,hi"}, {}, "scheme"),
        (ITEM, {"fileTypes": "iso, 7z"}, "type"),
        (ITEM, {"fileTypes": ".ZIP"}, ""),
        (ITEM, {"minSizeMB": 10}, "size"),
        (ITEM, {"minSizeMB": 4}, ""),
        ({**ITEM, "totalBytes": -1}, {"minSizeMB": 1}, "size"),  # unknown size stays
        ({**ITEM, "totalBytes": -1}, {"minSizeMB": "junk"}, ""),  # bad setting: no minimum
    ]
    results = run_logic([("shouldIntercept", [item, s, "me"]) for item, s, _ in cases])
    for (item, settings, why), result in zip(cases, results, strict=True):
        assert result == {"intercept": not why, "why": why}, (item, settings)


def test_what_goes_to_the_host_and_what_the_menu_collects() -> None:
    cookies = [{"name": "a", "value": "1"}, {"name": "sid", "value": "x y"}]
    info = {
        "linkUrl": "https://example.org/a.iso",
        "selectionText": "see https://example.org/b.iso, and magnet:?xt=urn:btih:abc.",
    }
    results = run_logic(
        [
            ("cookieHeader", [cookies]),
            ("entryFor", [{"url": "https://e.org/f", "filename": "", "cookies": "a=1"}]),
            ("linksFromMenu", [info, ["https://example.org/c.iso", "javascript:alert(1)"]]),
            ("linksFromMenu", [{"srcUrl": "https://e.org/v.mp4", "mediaType": "video"}, []]),
            ("describeReply", [{"status": "refused", "reason": "no"}]),
            ("describeReply", [None]),
            ("parseTypes", ["zip, .ISO  *.7z;"]),
            ("addEvent", [[{"n": i} for i in range(10)], {"n": "new"}]),
        ]
    )
    assert results[0] == "a=1; sid=x y"
    assert results[1] == {"url": "https://e.org/f", "cookies": "a=1"}
    assert results[2] == [
        "https://example.org/a.iso",
        "https://example.org/c.iso",
        "https://example.org/b.iso",
        "magnet:?xt=urn:btih:abc",
    ]
    assert results[3] == ["https://e.org/v.mp4"]
    assert results[4] == {"accepted": False, "reason": "no"}
    assert results[5] == {"accepted": False, "reason": "no answer from Aria Tray"}
    assert results[6] == ["zip", "iso", "7z"]
    assert len(results[7]) == 10 and results[7][0] == {"n": "new"}


def test_the_logic_names_our_host() -> None:
    assert re.search(rf'const HOST = "{re.escape(HOST_NAME)}";', (BROWSER / "logic.js").read_text())


def test_every_string_has_a_chinese_translation_and_every_used_key_exists() -> None:
    en = json.loads((BROWSER / "_locales" / "en" / "messages.json").read_text(encoding="utf-8"))
    zh = json.loads((BROWSER / "_locales" / "zh_CN" / "messages.json").read_text(encoding="utf-8"))
    assert set(en) == set(zh)
    for key, entry in zh.items():
        assert (entry["message"] and entry["message"] != en[key]["message"]) or key == "extName"
        assert entry.get("placeholders") == en[key].get("placeholders"), key
    used = set()
    for name in ("manifest.json", "popup.html", "popup.js", "background.js"):
        text = (BROWSER / name).read_text(encoding="utf-8")
        used |= set(re.findall(r"__MSG_(\w+)__", text))
        used |= set(re.findall(r'data-i18n(?:-placeholder)?="(\w+)"', text))
        used |= set(re.findall(r'(?:getMessage|\bt)\("(\w+)"', text))
    assert used, "no message keys found"
    assert used <= set(en), used - set(en)

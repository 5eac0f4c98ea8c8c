"""The native host's framing and checks, in process; and that it starts without Qt."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.native_host import (
    Download,
    Refusal,
    StreamBroken,
    parse_message,
    read_message,
    serve,
)
from support.native_messaging import EXTENSION_ORIGIN, frame, unframe_all

REPO = Path(__file__).resolve().parents[2]


def test_framing_edges() -> None:
    assert read_message(io.BytesIO(b"")) is None  # the browser hung up: a clean end
    with pytest.raises(StreamBroken, match="length was cut off"):
        read_message(io.BytesIO(b"\x05\x00"))
    with pytest.raises(StreamBroken, match="cut off after 2 of 10 bytes"):
        read_message(io.BytesIO(b"\x0a\x00\x00\x00{}"))
    assert read_message(io.BytesIO(frame({"type": "ping"}))) == b'{"type": "ping"}'


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "not valid UTF-8"),
        (b"[1]", "must be a JSON object"),
        (b'{"type": "download", "downloads": NaN}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (json.dumps({"type": "download", "downloads": []}).encode(), "list of 1 to 100"),
        (json.dumps({"type": "download", "downloads": ["x"]}).encode(), "must be a JSON object"),
        (json.dumps({"type": "download", "downloads": [{}]}).encode(), "has no 'url'"),
        (json.dumps({"type": "download", "downloads": [{"url": "data:,x"}]}).encode(), "not data:"),
        (
            json.dumps({"type": "download", "downloads": [{"url": "/etc/passwd"}]}).encode(),
            "this kind",
        ),
    ],
)
def test_bad_messages_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(Refusal, match=reason):
        parse_message(body)


def test_a_download_becomes_one_v2_item_with_its_own_options() -> None:
    item = Download(
        url="https://e.org/f?id=1",
        filename=r"C:\Users\me\Downloads\report.pdf",
        referrer="https://e.org/page",
        cookies="sid=abc",
        user_agent="UA/1",
    ).ipc_item()
    assert item == {
        "uri": "https://e.org/f?id=1",
        "options": {
            "header": ["Cookie: sid=abc"],
            "referer": "https://e.org/page",
            "user-agent": "UA/1",
            "out": "report.pdf",
        },
    }
    assert Download(url="https://e.org/f", filename="..").ipc_item()["options"] == {}


def test_serve_answers_each_message_and_stops_on_a_broken_length(tmp_path: Path) -> None:
    from aria2_core.paths import AppPaths

    out = io.BytesIO()
    stdin = io.BytesIO(frame({"type": "ping"}) + frame(b"{") + b"\xff\xff\xff\x7f")
    assert serve(stdin, out, AppPaths.for_home(tmp_path)) == 1
    replies = unframe_all(out.getvalue())
    assert [r["status"] for r in replies] == ["ok", "refused", "refused"]


def test_the_host_runs_without_qt() -> None:
    code = (
        "import sys\n"
        "from desktop.cli import main\n"
        f"rc = main(['--native-host', {EXTENSION_ORIGIN!r}])\n"
        "sys.stderr.write('QT=%s' % any(m.startswith('PySide6') for m in sys.modules))\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=frame({"type": "ping"}),
        capture_output=True,
        cwd=REPO,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert unframe_all(done.stdout)[0]["status"] == "ok"
    assert done.stderr.decode().endswith("QT=False")

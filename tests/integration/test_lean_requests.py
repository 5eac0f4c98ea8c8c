"""requests imported lean (``aria2_core.lean_requests``) still behaves as requests.

Each check runs in a fresh interpreter (the test runner has imported requests
long before), with warnings as errors, against a real HTTP server on
127.0.0.1 in that interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SERVER = textwrap.dedent(
    """
    import json, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    BODIES = {
        "/note": ("application/x-note", "Grüße aus Köln ✓ à bientôt. " * 4, "utf-8"),
        "/json": ("application/json", json.dumps({"name": "Köln ✓"}), "utf-8"),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            kind, text, codec = BODIES[self.path]
            body = text.encode(codec)
            self.send_response(200)
            self.send_header("Content-Type", kind)  # no charset: requests has to guess
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    """
)


LEAN = """
import sys
from aria2_core.lean_requests import KEPT_OUT, load
requests = load()
"""


def run_fresh(code: str, first: str = LEAN) -> dict[str, object]:
    """Run ``first``, then start the server (http.server imports http.client), then ``code``."""
    program = textwrap.dedent(first) + SERVER + textwrap.dedent(code)
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_lean_import_leaves_out_detection_and_tls_silently() -> None:
    result = run_fresh(
        """
        loaded = sorted(m for m in KEPT_OUT if sys.modules.get(m) is not None)
        session = requests.Session()
        answer = session.get(base + "/json", timeout=5)
        print(json.dumps({"loaded": loaded, "json": answer.json(), "again": load() is requests,
                          "blocked_left": [m for m in KEPT_OUT if m in sys.modules]}))
        server.shutdown()
        """
    )
    assert result == {
        "loaded": [],
        "json": {"name": "Köln ✓"},
        "again": True,
        "blocked_left": [],
    }


def test_text_without_a_charset_is_still_detected_on_first_use() -> None:
    result = run_fresh(
        """
        before = "charset_normalizer" in sys.modules or "chardet" in sys.modules
        answer = requests.get(base + "/note", timeout=5)
        text = answer.text
        import charset_normalizer
        direct = charset_normalizer.detect(answer.content)["encoding"]
        after = "charset_normalizer" in sys.modules or "chardet" in sys.modules
        print(json.dumps({"before": before, "after": after, "text": text[:20],
                          "encoding": answer.encoding,
                          "apparent": answer.apparent_encoding, "direct": direct}))
        server.shutdown()
        """
    )
    assert (result["before"], result["after"]) == (False, True)
    assert result["text"] == "Grüße aus Köln ✓ à b"
    assert result["encoding"] is None  # none declared: .text asked the detector
    assert result["apparent"] == result["direct"] == "utf-8"


def test_ssl_stays_importable_and_https_fails_clearly() -> None:
    result = run_fresh(
        """
        import ssl  # elsewhere in the process, TLS still works
        try:
            requests.get("https://127.0.0.1:9/", timeout=2)
        except ImportError as exc:  # urllib3's own words, unwrapped by requests
            error = "SSL module is not available" in str(exc)
        print(json.dumps({"ssl": hasattr(ssl, "create_default_context"), "clear_error": error}))
        server.shutdown()
        """
    )
    assert result == {"ssl": True, "clear_error": True}


def test_requests_already_imported_is_returned_untouched() -> None:
    result = run_fresh(
        """
        from aria2_core.lean_requests import load
        print(json.dumps({"same": load() is requests,
                          "detector": type(requests.compat.chardet).__name__}))
        server.shutdown()
        """,
        first="import requests\n",
    )
    assert result == {"same": True, "detector": "module"}

"""The local HTTP server every download test stands on: ranges, HEAD, stop."""

from __future__ import annotations

import pytest
import requests

from support.http_server import FileServer, PayloadFactory


def test_file_server_speaks_ranges(
    http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    payload = payload_factory("r a.bin", 1000)
    data = payload.path.read_bytes()
    with requests.Session() as http:
        http.trust_env = False
        full = http.get(payload.url)
        assert (full.status_code, full.content) == (200, data)
        assert full.headers["Accept-Ranges"] == "bytes"
        cases = {
            "bytes=10-19": (10, 19),
            "bytes=990-": (990, 999),
            "bytes=-5": (995, 999),
            "bytes=995-5000": (995, 999),
        }
        for header, (start, end) in cases.items():
            part = http.get(payload.url, headers={"Range": header})
            assert part.status_code == 206, header
            assert part.headers["Content-Range"] == f"bytes {start}-{end}/1000"
            assert part.content == data[start : end + 1]
        bad = http.get(payload.url, headers={"Range": "bytes=1000-"})
        assert (bad.status_code, bad.headers["Content-Range"]) == (416, "bytes */1000")
        head = http.head(payload.url)
        assert (head.status_code, head.headers["Content-Length"], head.content) == (
            200,
            "1000",
            b"",
        )
        assert http.get(http_server.url("missing.bin")).status_code == 404
        assert http.get(f"http://127.0.0.1:{http_server.port}/%2e%2e/secret").status_code == 404
    assert [r.range for r in http_server.requests if r.method == "GET"][1] == "bytes=10-19"


def test_file_server_stop_cuts_a_throttled_transfer(
    http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    http_server.throttle = 64 * 1024
    payload = payload_factory("cut.bin", 4 * 1024 * 1024)
    http = requests.Session()
    http.trust_env = False
    with http, http.get(payload.url, stream=True, timeout=10) as response:
        first = next(response.iter_content(1024))
        assert first == payload.path.read_bytes()[:1024]
        http_server.stop()
        with pytest.raises(requests.RequestException):
            for _ in response.iter_content(64 * 1024):
                pass
    http_server.stop()  # idempotent

"""Bad input is reported, never fatal, and never holds good links back.

Acceptance item: a launch that mixes malformed links (``htp:/x``,
``ftp://`` with no host, a missing .torrent) with good ones keeps the
primary alive, the good links reach aria2 and the log names each bad one.
"""

from __future__ import annotations

import pytest
from e2e_support import counts, reached_aria2, start_primary

from support.app_process import AppHome, wait_until
from support.http_server import PayloadFactory

pytestmark = pytest.mark.e2e

BAD = ["htp:/x", "ftp://", "missing-file-for-e2e.torrent"]


def _assert_reported(home: AppHome, bad: list[str]) -> None:
    def all_logged() -> bool:
        log = home.log_text()
        return all(repr(item) in log for item in bad)

    try:
        wait_until(all_logged, 10)
    except TimeoutError:
        raise AssertionError(f"the log does not name every bad link:\n{home.log_text()}") from None


def _assert_arrived(home: AppHome, urls: list[str]) -> None:
    try:
        wait_until(lambda: set(urls) <= reached_aria2(home), 10)
    except TimeoutError:
        raise AssertionError(f"good links missing from aria2:\n{home.log_text()}") from None


def test_bad_links_on_the_first_command_line(
    app_home: AppHome, payload_factory: PayloadFactory
) -> None:
    good = [payload_factory(f"good-{n}.bin", 2048).url for n in range(2)]

    primary, _ = start_primary(app_home, good[0], *BAD, good[1])

    _assert_arrived(app_home, good)
    _assert_reported(app_home, BAD)
    assert primary.poll() is None
    assert counts(app_home) == (1, 1)


def test_bad_links_from_a_second_launch(app_home: AppHome, payload_factory: PayloadFactory) -> None:
    primary, status = start_primary(app_home)
    good = [payload_factory(f"good-{n}.bin", 2048).url for n in range(2)]

    second = app_home.run(good[0], *BAD, good[1])

    assert second.returncode == 0, second.stderr
    _assert_arrived(app_home, good)
    _assert_reported(app_home, BAD)
    assert primary.poll() is None
    after = app_home.wait_ready()
    assert (after["app_pid"], after["aria2c_pid"]) == (primary.pid, status["aria2c_pid"])
    assert counts(app_home) == (1, 1)

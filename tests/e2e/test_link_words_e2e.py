"""Links as people paste them, and launches that add nothing (issue 9, items 13 and 14).

Real launches of main.py against a real primary and its aria2c.
"""

from __future__ import annotations

import pytest
from e2e_support import find_task, start_primary

from support.app_process import AppHome, wait_until
from support.http_server import FileServer, PayloadFactory

pytestmark = pytest.mark.e2e


def test_a_url_with_literal_spaces_is_encoded_and_downloads(
    app_home: AppHome, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    primary, _ = start_primary(app_home)
    payload = payload_factory("my file (1).bin", 4096)
    typed = f"http://127.0.0.1:{http_server.port}/my file (1).bin"

    second = app_home.run(typed)

    assert second.returncode == 0, second.stderr
    encoded = f"http://127.0.0.1:{http_server.port}/my%20file%20(1).bin"
    try:
        task = wait_until(
            lambda: (t := find_task(app_home, encoded)) and t["status"] == "complete" and t, 15
        )
    except TimeoutError:
        raise AssertionError(f"the spaced URL never completed:\n{app_home.log_text()}") from None
    assert task["status"] == "complete"
    assert primary.poll() is None
    assert payload.size == 4096


def test_a_launch_whose_links_are_all_rejected_fails_and_says_why(app_home: AppHome) -> None:
    primary, _ = start_primary(app_home)

    second = app_home.run("htp:/x", "ftp://")

    assert second.returncode != 0
    assert "htp:/x" in second.stderr and "ftp://" in second.stderr, second.stderr
    assert "no link" in second.stderr.lower(), second.stderr
    assert primary.poll() is None
    # The primary says so too (the tray notice is logged with its text).
    wait_until(lambda: "No link was added" in app_home.log_text(), 10)


def test_status_counts_what_the_window_lists(
    app_home: AppHome, payload_factory: PayloadFactory
) -> None:
    urls = [payload_factory(f"done-{n}.bin", 2048).url for n in range(4)]
    start_primary(app_home, *urls)
    wait_until(
        lambda: all((t := find_task(app_home, u)) and t["status"] == "complete" for u in urls), 20
    )

    status = app_home.run("--status")

    assert status.returncode == 0, status.stderr
    import json

    counts = json.loads(status.stdout)["counts"]
    assert counts["stopped"] == 4 and counts["complete"] == 4, counts


def test_status_of_a_failed_engine_shows_no_last_speeds(
    app_home: AppHome, http_server: FileServer, payload_factory: PayloadFactory
) -> None:
    """Issue 9, item 7: aria2c crashes until the app gives up; --status has no stale numbers."""
    import json

    from e2e_support import aria2c_pids

    from support.programs import kill_hard

    http_server.throttle = 64 * 1024
    payload = payload_factory("slow.bin", 8 * 1024 * 1024)
    start_primary(app_home, payload.url)

    def status() -> dict:
        return json.loads(app_home.run("--status").stdout)

    wait_until(lambda: status()["download_speed"] > 0, 20)
    for _ in range(10):  # five crashes in a minute stop the restarts
        if status()["engine_state"] == "failed":
            break
        pids = wait_until(lambda: aria2c_pids(app_home) or None, 20)
        for pid in pids:
            kill_hard(pid)
        wait_until(lambda p=pids: not (aria2c_pids(app_home) & p), 10)
    final = wait_until(lambda: (s := status())["engine_state"] == "failed" and s, 30)

    assert final["download_speed"] == 0 and final["upload_speed"] == 0, final
    assert final["counts"]["active"] == 0, final
    assert final["engine_error"], final

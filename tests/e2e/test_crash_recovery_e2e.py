"""A crash of either process loses no download and leaves no orphan.

Acceptance items: SIGKILL the app mid-download, its aria2c is gone within
3 s and a relaunch finishes the file; SIGKILL aria2c mid-download, the app
starts a new one within 5 s and the file completes. Both check the sha256
against the source and that the download resumed rather than restarted.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from e2e_support import aria2c_pids, counts, find_task, start_primary

from support.app_process import AppHome, wait_until
from support.http_server import FileServer, Payload, PayloadFactory, sha256_of
from support.programs import KILLED_STATUS, freeze, kill_hard

pytestmark = pytest.mark.e2e

SIZE = 24 * 1024 * 1024
RATE = 2 * 1024 * 1024  # one connection at ~2 MiB/s: about 12 s for the whole file
AUTO_SAVE_S = 5  # aria2c rewrites the .aria2 control file this often (aria2_core.config)
APP_KILLED_ARIA2C_GONE_S = 3.0
ARIA2C_RESTARTED_S = 5.0
_RANGE_START = re.compile(r"bytes=(\d+)-")


def _progress(home: AppHome, uri: str) -> int:
    task = find_task(home, uri)
    return int(task["completedLength"]) if task else 0


def _wait_complete(home: AppHome, uri: str, timeout: float = 60.0) -> dict[str, Any]:
    def complete() -> dict[str, Any] | None:
        task = find_task(home, uri)
        if task and task["status"] == "error":
            raise AssertionError(f"download failed: {task.get('errorMessage')}")
        return task if task and task["status"] == "complete" else None

    return wait_until(complete, timeout, interval=0.2)


def _resumed_after(server: FileServer, first_request: int) -> bool:
    """True when a request made after the crash asked for a range past byte 0."""
    for record in server.requests[first_request:]:
        match = _RANGE_START.match(record.range or "")
        if match and int(match.group(1)) > 0:
            return True
    return False


def _assert_file_matches(home: AppHome, payload: Payload) -> None:
    target = Path(home.download_dir) / payload.name
    assert target.is_file(), os.listdir(home.download_dir)
    assert not target.with_name(payload.name + ".aria2").exists()
    assert sha256_of(target) == payload.sha256


@pytest.fixture
def slow_payload(http_server: FileServer, payload_factory: PayloadFactory) -> Payload:
    http_server.throttle = RATE
    return payload_factory("big.bin", SIZE)


def test_app_sigkill_ends_aria2c_and_relaunch_finishes_the_download(
    app_home: AppHome, http_server: FileServer, slow_payload: Payload
) -> None:
    primary, _ = start_primary(app_home, slow_payload.url)
    # Some progress first, so there is something to resume.
    wait_until(lambda: _progress(app_home, slow_payload.url) >= SIZE // 5, 30, interval=0.2)
    requests_before = len(http_server.requests)

    kill_hard(primary.pid)

    try:
        wait_until(lambda: not app_home.aria2c_processes(), APP_KILLED_ARIA2C_GONE_S)
    except TimeoutError:
        raise AssertionError(
            f"aria2c {aria2c_pids(app_home)} outlived the SIGKILLed app by "
            f"{APP_KILLED_ARIA2C_GONE_S} s"
        ) from None
    assert primary.wait(5) == KILLED_STATUS

    start_primary(app_home)  # no arguments: the session brings the download back
    wait_until(lambda: _resumed_after(http_server, requests_before), 20)
    http_server.throttle = None  # the resume is proven; finish quickly
    _wait_complete(app_home, slow_payload.url)
    _assert_file_matches(app_home, slow_payload)
    assert counts(app_home) == (1, 1)


def test_aria2c_sigkill_is_restarted_and_the_download_completes(
    app_home: AppHome, http_server: FileServer, slow_payload: Payload
) -> None:
    primary, status = start_primary(app_home, slow_payload.url)
    old_pid = status["aria2c_pid"]
    # Past one control-file save: a SIGKILLed aria2c saves nothing on the way out.
    wait_until(
        lambda: _progress(app_home, slow_payload.url) >= (AUTO_SAVE_S + 1) * RATE,
        30,
        interval=0.2,
    )
    requests_before = len(http_server.requests)

    kill_hard(old_pid)

    try:
        new_pids = wait_until(lambda: aria2c_pids(app_home) - {old_pid}, ARIA2C_RESTARTED_S)
    except TimeoutError:
        raise AssertionError(
            f"no new aria2c within {ARIA2C_RESTARTED_S} s.\nLog:\n{app_home.log_text()}"
        ) from None
    assert len(new_pids) == 1
    assert primary.poll() is None
    wait_until(lambda: _resumed_after(http_server, requests_before), 20)
    http_server.throttle = None
    _wait_complete(app_home, slow_payload.url)
    _assert_file_matches(app_home, slow_payload)
    assert counts(app_home) == (1, 1)
    assert app_home.wait_ready()["app_pid"] == primary.pid


KILLED_AT_BIRTH_TRIALS = 5


def _kill_app_as_its_aria2c_is_born(home: AppHome, app: Any, before: set[int]) -> set[int]:
    """Freeze the aria2c that appears next and SIGKILL the app at once; return its pid."""
    born = wait_until(lambda: aria2c_pids(home) - before, 30, interval=0.005)
    for pid in born:
        freeze(pid)
    kill_hard(app.pid)
    assert app.wait(10) == KILLED_STATUS
    return born


def _next_start_stops(home: AppHome, orphans: set[int], trial: int) -> None:
    start_primary(home)
    survivors = aria2c_pids(home)
    assert len(survivors) == 1 and not survivors & orphans, (
        f"trial {trial}: aria2c {sorted(survivors)} for one home; the orphan was "
        f"{sorted(orphans)}.\nLog:\n{home.log_text()}"
    )
    home.run("--quit", timeout=60)
    wait_until(lambda: not home.aria2c_processes(), 30)


def test_an_aria2c_orphaned_before_its_record_is_stopped_by_the_next_start(
    app_home: AppHome,
) -> None:
    """The chaos run's "2 aria2c for one home" (CI, seed 285687227), made certain.

    The app dies the moment its aria2c exists, before the worker has written
    the ownership record. That aria2c is frozen first, so it cannot end itself
    (PDEATHSIG's SIGTERM and ``--stop-with-process`` both need it to run): it
    stands for an orphan that takes its time to go. The next start must stop
    it before it starts its own, never run beside it.
    """
    for trial in range(KILLED_AT_BIRTH_TRIALS):
        app = app_home.launch()
        orphans = _kill_app_as_its_aria2c_is_born(app_home, app, set())
        _next_start_stops(app_home, orphans, trial)


def test_a_restarted_aria2c_orphaned_before_its_record_is_stopped_by_the_next_start(
    app_home: AppHome,
) -> None:
    """The same moment after an aria2c crash: the app restarts it and dies at once."""
    for trial in range(KILLED_AT_BIRTH_TRIALS):
        app, status = start_primary(app_home)
        crashed = status["aria2c_pid"]
        kill_hard(crashed)
        orphans = _kill_app_as_its_aria2c_is_born(app_home, app, {crashed})
        _next_start_stops(app_home, orphans, trial)

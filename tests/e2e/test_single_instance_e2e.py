"""One app and one aria2c per app home, however it is launched.

Acceptance items: start (1 app, 1 aria2c, still so 5 s later), ten
simultaneous launches with and without a running primary, a plain second
launch, and ``--status`` / ``--quit`` / ``--show`` with and without a primary.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from e2e_support import aria2c_pids, counts, reached_aria2, start_primary

from support.app_process import AppHome, wait_until
from support.http_server import PayloadFactory

pytestmark = pytest.mark.e2e

LAUNCHES = 10
EXIT_NOT_RUNNING = 3


def test_start_gives_one_app_and_one_aria2c_and_stays_so(app_home: AppHome) -> None:
    primary, status = start_primary(app_home)
    assert counts(app_home) == (1, 1)
    aria_pid = status["aria2c_pid"]
    assert aria2c_pids(app_home) == {aria_pid}

    # Watch for 5 s: still exactly one of each, and the same ones.
    seen = set()
    end = time.monotonic() + 5.0
    while time.monotonic() < end:
        seen.add(counts(app_home))
        time.sleep(0.1)
    assert seen == {(1, 1)}
    assert aria2c_pids(app_home) == {aria_pid}
    assert primary.poll() is None
    assert [p.pid for p in app_home.primary_processes()] == [primary.pid]


def _launch_many(home: AppHome, urls: list[str]) -> list[subprocess.Popen[bytes]]:
    return [home.launch(url) for url in urls]


def _assert_one_of_each_and_all_urls(home: AppHome, urls: list[str]) -> None:
    assert counts(home) == (1, 1), home.log_text()
    try:
        wait_until(lambda: set(urls) <= reached_aria2(home), 15)
    except TimeoutError:
        missing = set(urls) - reached_aria2(home)
        raise AssertionError(f"links never reached aria2: {sorted(missing)}") from None


def test_ten_simultaneous_launches_while_running(
    app_home: AppHome, payload_factory: PayloadFactory
) -> None:
    primary, status = start_primary(app_home)
    urls = [payload_factory(f"file-{n}.bin", 4096).url for n in range(LAUNCHES)]

    launches = _launch_many(app_home, urls)
    codes = [p.wait(30) for p in launches]

    assert codes == [0] * LAUNCHES, [p.stderr.read() for p in launches if p.stderr]
    _assert_one_of_each_and_all_urls(app_home, urls)
    assert primary.poll() is None
    assert aria2c_pids(app_home) == {status["aria2c_pid"]}


def test_ten_simultaneous_launches_from_nothing(
    app_home: AppHome, payload_factory: PayloadFactory
) -> None:
    urls = [payload_factory(f"file-{n}.bin", 4096).url for n in range(LAUNCHES)]

    launches = _launch_many(app_home, urls)
    # All but one hand over their link and exit; the one left is the primary.
    wait_until(lambda: sum(p.poll() is not None for p in launches) >= LAUNCHES - 1, 40)
    running = [p for p in launches if p.poll() is None]
    exited = [p for p in launches if p.poll() is not None]
    assert len(running) == 1, [p.returncode for p in launches]
    assert [p.returncode for p in exited] == [0] * (LAUNCHES - 1), [
        p.stderr.read() for p in exited if p.stderr and p.returncode
    ]

    status = app_home.wait_ready()
    assert status["app_pid"] == running[0].pid
    assert [p.pid for p in app_home.primary_processes()] == [running[0].pid]
    _assert_one_of_each_and_all_urls(app_home, urls)


def test_second_plain_launch_exits_0_and_starts_nothing(app_home: AppHome) -> None:
    primary, status = start_primary(app_home)

    second = app_home.run(timeout=30)

    assert second.returncode == 0, second.stderr
    assert counts(app_home) == (1, 1)
    assert [p.pid for p in app_home.app_processes()] == [primary.pid]
    assert aria2c_pids(app_home) == {status["aria2c_pid"]}


def test_status_prints_the_running_instance(app_home: AppHome) -> None:
    primary, _ = start_primary(app_home)

    result = app_home.run("--status")

    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["app_pid"] == primary.pid
    assert status["aria2c_pid"] in aria2c_pids(app_home)
    assert isinstance(status["port"], int) and status["port"] > 0
    assert status["engine_state"] == "ready"
    assert set(status["counts"]) >= {"active", "waiting", "stopped"}
    assert all(isinstance(v, int) for v in status["counts"].values())


@pytest.mark.parametrize("flag", ["--status", "--quit", "--show"])
def test_control_flags_without_a_primary_exit_3_and_start_nothing(
    app_home: AppHome, flag: str
) -> None:
    result = app_home.run(flag)

    assert result.returncode == EXIT_NOT_RUNNING, (result.stdout, result.stderr)
    assert counts(app_home) == (0, 0)
    if flag == "--status":
        assert json.loads(result.stdout)["running"] is False
    else:
        assert "not running" in result.stderr

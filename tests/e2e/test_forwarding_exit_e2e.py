"""A launch that handed its links over ends at once, without tearing Python down.

The primary starts the download as soon as it has answered, so what the
launch does after the answer runs on the CPUs the new transfer needs. The
interpreter's teardown of the modules a launch imports took 12-40 ms of CPU
there, and on two cores a CPU burst at a transfer's start slows the whole
1 GiB loopback download (issue 11, item 5; tests/bench/test_bench_throughput.py).

How "no teardown" is seen without a clock: a ``sitecustomize`` on the
launch's PYTHONPATH registers an ``atexit`` hook that writes a marker file.
An interpreter that finalises runs it; one ended by ``os._exit`` does not.
``--status`` (which returns normally) shows that the hook itself works.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from e2e_support import reached_aria2, start_primary

from support.app_process import AppHome, is_frozen_target, launch_command, wait_until

pytestmark = pytest.mark.e2e

SITECUSTOMIZE = """\
import atexit, os, pathlib
_marker = os.environ.get("ARIA_TRAY_TEST_TEARDOWN_MARKER")
if _marker:
    atexit.register(lambda: pathlib.Path(_marker).write_text("torn down", encoding="ascii"))
"""


def _run_with_teardown_hook(
    home: AppHome, hooks: Path, marker: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = home.env()
    env["PYTHONPATH"] = str(hooks)
    env["ARIA_TRAY_TEST_TEARDOWN_MARKER"] = str(marker)
    return subprocess.run(
        [*launch_command(), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(is_frozen_target(), reason="a frozen app reads no sitecustomize")
def test_handed_over_launch_skips_the_interpreter_teardown(
    app_home: AppHome, tmp_path: Path
) -> None:
    start_primary(app_home)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="ascii")

    # The hook works: a launch that returns normally (--status) runs it.
    status_marker = tmp_path / "status.marker"
    status = _run_with_teardown_hook(app_home, hooks, status_marker, "--status")
    assert status.returncode == 0, status.stderr
    assert status_marker.exists(), "the atexit hook never ran: the test would prove nothing"

    # A launch whose link the primary took: exit 0, the link in aria2, no teardown.
    url = "http://127.0.0.1:9/handed-over.bin"
    handed_marker = tmp_path / "handed.marker"
    handed = _run_with_teardown_hook(app_home, hooks, handed_marker, url)
    assert handed.returncode == 0, handed.stderr
    wait_until(lambda: url in reached_aria2(app_home), 15)
    assert not handed_marker.exists(), "the launch tore Python down after the primary answered"

    # Every link refused: exit 1, and the reasons still reach stderr before the quick end.
    refused_marker = tmp_path / "refused.marker"
    refused = _run_with_teardown_hook(app_home, hooks, refused_marker, "ftp-nope://x")
    assert refused.returncode == 1, refused.stderr
    assert "no link was added" in refused.stderr
    assert not refused_marker.exists()

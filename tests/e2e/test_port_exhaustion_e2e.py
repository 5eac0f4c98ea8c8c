"""No free loopback port: a clear, retried failure, not "[Errno 98]".

Item 12 of issue 8 (port exhaustion). The app runs in a network namespace
of its own (``unshare -n``) whose ephemeral port range is two ports, both
bound by sockets the app process itself inherits, so every
``bind(127.0.0.1:0)`` fails for real without touching the host's ports.
``--status`` still reaches it: its socket is a file, not a network address.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.app_process import AppHome, launch_command, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.source_only,
    pytest.mark.skipif(
        not sys.platform.startswith("linux")
        or os.geteuid() != 0
        or shutil.which("unshare") is None
        or shutil.which("ip") is None,
        reason="takes every port inside a private network namespace: needs Linux, root, "
        "unshare and ip (Windows has no namespace a test could use)",
    ),
]

HOLD = """
import os, socket, sys
held = []
for port in (40000, 40001):
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    os.set_inheritable(s.fileno(), True)
    held.append(s)
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_no_free_port_is_said_plainly_and_retried(app_home: AppHome, tmp_path: Path) -> None:
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here")
    hold = tmp_path / "hold.py"
    hold.write_text(HOLD)
    script = (
        "ip link set lo up && "
        'echo "40000 40001" > /proc/sys/net/ipv4/ip_local_port_range && '
        'exec "$@"'
    )
    command = launch_command()
    app = subprocess.Popen(
        ["unshare", "-n", "sh", "-c", script, "sh", command[0], str(hold), *command],
        env=app_home.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    app_home.launched.append(app)

    def failed() -> dict[str, object] | None:
        result = app_home.run("--status", timeout=10)
        if result.returncode != 0:
            return None
        status = json.loads(result.stdout)
        return status if status.get("engine_state") == "failed" else None

    try:
        status = wait_until(failed, 40, interval=0.3)
    except TimeoutError:
        raise AssertionError(app_home.log_text()) from None
    error = str(status["engine_error"])
    assert "No free TCP port on 127.0.0.1" in error, error
    assert "not restarting" in error  # retried with backoff first, then given up visibly
    assert "Traceback" not in app_home.log_text()
    assert app_home.run("--quit").returncode == 0
    assert app.wait(15) == 0

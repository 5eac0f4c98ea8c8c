r"""Windows: the IPC pipe's name, who may own it, and the job aria2c is born in.

Real pipes, real processes. What Wine cannot show: a *second user*. Under
Wine every process runs as the one user, so "another user's server is
refused" (``desktop.win_pipe.server_is_ours`` answering False) is checked
only from our side: our own server is recognised by PID and SID, and a
name squatted by another process, whoever runs it, is refused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from aria2_core.errors import IpcError
from aria2_core.ipc_protocol import Request
from aria2_core.paths import AppPaths
from support.platforms import only_on

pytestmark = [
    pytest.mark.windows,
    only_on("win32", "named pipes and Job Objects"),
]

SID_RE = re.compile(r"S-1-5-(?:\d+-)*\d+")


def _spawn(code: str) -> subprocess.Popen[str]:
    """A helper python that prints one READY line (with pids) once it has done its part."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).resolve().parents[2]),
    )


def _ready_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("READY"), f"helper failed: {line!r} (exit {proc.poll()})"
    return line


@pytest.fixture
def helpers() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


# -- the name ------------------------------------------------------------------------
def test_the_pipe_name_carries_the_sid_not_the_user_name_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aria2_core.win_user import current_user_sid

    name = AppPaths.for_home(tmp_path).server_name
    assert SID_RE.fullmatch(current_user_sid())
    assert current_user_sid() in name
    for variable in ("USERNAME", "USER", "LOGNAME", "LNAME"):
        monkeypatch.setenv(variable, "someone-else")
    assert AppPaths.for_home(tmp_path).server_name == name


def test_the_pipe_name_ignores_the_case_of_the_home(tmp_path: Path) -> None:
    home = tmp_path / "Aria Home"
    upper = AppPaths.for_home(str(home).upper()).server_name
    lower = AppPaths.for_home(str(home).lower()).server_name
    assert upper == lower == AppPaths.for_home(home).server_name
    assert AppPaths.for_home(tmp_path / "other").server_name != upper


# -- who owns it ---------------------------------------------------------------------
SQUATTER = r"""
    import ctypes, sys, time
    from ctypes import wintypes
    k = ctypes.WinDLL("kernel32", use_last_error=True)
    k.CreateNamedPipeW.restype = wintypes.HANDLE
    k.CreateNamedPipeW.argtypes = [wintypes.LPCWSTR] + [wintypes.DWORD] * 6 + [wintypes.LPVOID]
    # No security attributes, no FILE_FLAG_FIRST_PIPE_INSTANCE: whoever may add instances.
    h = k.CreateNamedPipeW(r"\\.\pipe\%s", 3, 0, 255, 0, 0, 0, None)
    print("READY" if h and h != wintypes.HANDLE(-1).value else f"FAILED {ctypes.get_last_error()}",
          flush=True)
    time.sleep(120)
"""


def test_a_pipe_name_someone_else_created_first_is_refused(
    tmp_path: Path, qapp: Any, helpers: list[subprocess.Popen[str]]
) -> None:
    """QLocalServer alone would join the squatter's pipe (no FIRST_PIPE_INSTANCE)."""
    from desktop.single_instance import IpcServer

    name = AppPaths.for_home(tmp_path).server_name
    helpers.append(_spawn(SQUATTER % name))
    _ready_line(helpers[-1])
    server = IpcServer(name, lambda request: {"cmd": request.cmd})
    try:
        with pytest.raises(IpcError, match="Another program already serves the pipe"):
            server.listen()
        assert not server.is_listening
    finally:
        server.close()
    # Once the squatter is gone, the name is ours again.
    helpers[-1].kill()
    helpers[-1].wait(10)
    again = IpcServer(name, lambda request: {"cmd": request.cmd})
    try:
        again.listen()
        assert again.is_listening
    finally:
        again.close()


SECOND_LAUNCH = r"""
    import json, sys
    from PySide6.QtNetwork import QLocalSocket
    from desktop.ipc_client import send_request
    from desktop.win_pipe import pipe_server_pid, server_is_ours
    name = sys.argv[1]
    sock = QLocalSocket()
    sock.connectToServer(name)
    assert sock.waitForConnected(5000), sock.errorString()
    handle = int(sock.socketDescriptor())
    seen = [pipe_server_pid(handle), server_is_ours(handle)]
    sock.abort()
    print(json.dumps([*seen, send_request(name, "status", {}, 10.0)]), flush=True)
"""


def test_a_launch_checks_the_pipe_is_served_by_its_own_user(
    tmp_path: Path, qapp: Any, qtbot: Any, helpers: list[subprocess.Popen[str]]
) -> None:
    from desktop.single_instance import IpcServer

    name = AppPaths.for_home(tmp_path).server_name
    seen: list[Request] = []
    server = IpcServer(name, lambda request: seen.append(request) or {"pid": os.getpid()})
    server.listen()
    try:
        launch = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(SECOND_LAUNCH), name],
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(Path(__file__).resolve().parents[2]),
        )
        helpers.append(launch)
        qtbot.waitUntil(lambda: launch.poll() is not None, timeout=30_000)
        assert launch.returncode == 0
        assert launch.stdout is not None
        pid, ours, reply = json.loads(launch.stdout.read())
    finally:
        server.close()
    assert (pid, ours) == (os.getpid(), True)
    assert reply == {"pid": os.getpid()}
    assert [request.cmd for request in seen] == ["status"]


# -- the app's job ---------------------------------------------------------------------
CONTAINED_APP = r"""
    import subprocess, sys, time
    from desktop import win_job
    job = win_job.contain_app()
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    with win_job.children_in_job() as inside_job:
        inside = subprocess.Popen(sleeper, stdout=subprocess.PIPE)
    outside = subprocess.Popen(sleeper, stdout=subprocess.PIPE)
    import os
    print("READY", job is not None, inside_job, win_job.is_process_in_job(os.getpid(), job),
          inside.pid, win_job.is_process_in_job(inside.pid, job),
          outside.pid, win_job.is_process_in_job(outside.pid, job), flush=True)
    time.sleep(120)
"""


def test_children_started_in_the_job_die_with_the_app_and_others_outlive_it(
    helpers: list[subprocess.Popen[str]],
) -> None:
    """aria2c is born in the app's kill-on-close job; a file opened from the app is not."""
    app = _spawn(CONTAINED_APP)
    helpers.append(app)
    fields = _ready_line(app).split()
    assert fields[1:4] == ["True", "True", "True"]  # job made, block effective, app inside
    inside, inside_in_job, outside, outside_in_job = fields[4:]
    assert (inside_in_job, outside_in_job) == ("True", "False")
    inside_proc, outside_proc = psutil.Process(int(inside)), psutil.Process(int(outside))
    try:
        app.kill()  # TerminateProcess: no clean-up runs in the app
        app.wait(10)
        inside_proc.wait(10)  # raises TimeoutExpired if the job did not end it
        time.sleep(0.5)
        assert outside_proc.is_running()
    finally:
        for proc in (inside_proc, outside_proc):
            if proc.is_running():
                proc.kill()

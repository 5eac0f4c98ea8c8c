"""Launch Aria Tray the way a user does, and look at the processes it leaves.

The launch command comes from ``ARIA_TRAY_LAUNCH`` (a frozen build's
executable, see ``make test-dist``), else ``python main.py`` from this
checkout. Every launch gets the test's own app home through
``ARIA_TRAY_HOME``, so tests never meet each other or a real user.

Processes are counted with psutil, by what makes them belong to *this*
home: the app by its ``ARIA_TRAY_HOME`` environment, aria2c by its
``--conf-path=<home>/engine/aria2.conf`` argument. Zombies do not count
(in some sandboxes PID 1 does not reap orphans).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from aria2_core.rpc import Aria2Client
from support.wine import patience

REPO = Path(__file__).resolve().parents[2]
LAUNCH_ENV = "ARIA_TRAY_LAUNCH"


def launch_command() -> list[str]:
    custom = os.environ.get(LAUNCH_ENV)
    if custom:
        return shlex.split(custom)
    return [sys.executable, str(REPO / "main.py")]


def is_frozen_target() -> bool:
    return bool(os.environ.get(LAUNCH_ENV))


def short_home(prefix: str = "at-") -> Path:
    """A fresh app home with a short path (AF_UNIX socket paths are limited)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp" if os.name == "posix" else None))


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until truthy; returns its value, or raises TimeoutError.

    A bounded readiness poll for tests, not a timing assertion: the timeout
    only decides when to give up.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def read_conf(path: Path) -> dict[str, str]:
    """The ``key=value`` lines of an aria2 conf file (comments skipped); OSError if unreadable."""
    conf: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            conf[key] = value
    return conf


@dataclass
class AppHome:
    """One test's app home, and every process launched into it."""

    home: Path
    download_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    launched: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def create(cls) -> AppHome:
        home = short_home()
        downloads = home / "dl"
        downloads.mkdir()
        return cls(home, downloads)

    def mark_first_run_done(self) -> None:
        """Make the next launch a returning user's: no first-run window.

        The first start shows the window (issue 9, item 18); tests of a
        start "as at login" record that it happened, as the app does.
        """
        settings = self.home / "settings.ini"
        text = settings.read_text(encoding="utf-8") if settings.exists() else ""
        settings.write_text(text + "\n[ui]\nfirst_run_done=true\n", encoding="utf-8")

    # -- launching --------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "ARIA_TRAY_HOME": str(self.home),
                "ARIA_TRAY_DOWNLOAD_DIR": str(self.download_dir),
                "QT_QPA_PLATFORM": env.get("QT_QPA_PLATFORM", "offscreen"),
                "ARIA_TRAY_LOG_STDERR": "0",
            }
        )
        env.update(self.extra_env)
        return env

    def launch(self, *args: str, **popen: Any) -> subprocess.Popen[bytes]:
        """Start ``main.py args…`` in the background; the fixture reaps it."""
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.PIPE)
        proc = subprocess.Popen([*launch_command(), *args], env=self.env(), **popen)
        self.launched.append(proc)
        return proc

    def run(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run ``main.py args…`` to completion (a forwarding launch, --status, …)."""
        return subprocess.run(
            [*launch_command(), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=patience(timeout),
        )

    # -- looking ------------------------------------------------------------
    @property
    def conf_arg(self) -> str:
        return f"--conf-path={self.home / 'engine' / 'aria2.conf'}"

    def aria2c_processes(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = proc.info.get("cmdline") or []
            if self.conf_arg in cmdline and _alive(proc):
                found.append(proc)
        return found

    def app_processes(self) -> list[psutil.Process]:
        """Live Aria Tray processes (not aria2c) whose app home is ours."""
        found = []
        for proc in psutil.process_iter(["cmdline"]):
            try:
                cmdline = proc.info.get("cmdline") or []
                if not cmdline or self.conf_arg in cmdline or not _alive(proc):
                    continue
                if proc.pid == os.getpid():  # a test that set ARIA_TRAY_HOME on itself:
                    continue  # Windows shows a process's live environment, Linux its first

                if proc.environ().get("ARIA_TRAY_HOME") == str(self.home):
                    found.append(proc)
            except psutil.Error:
                continue
        return found

    def primary_processes(self) -> list[psutil.Process]:
        """App processes that are the primary: the parent of this home's aria2c."""
        parents = set()
        for aria in self.aria2c_processes():
            try:
                parents.add(aria.ppid())
            except psutil.Error:
                continue
        return [p for p in self.app_processes() if p.pid in parents]

    def rpc(self) -> Aria2Client:
        """An RPC client for this home's aria2c, from its private conf file."""
        conf = read_conf(self.home / "engine" / "aria2.conf")
        return Aria2Client(int(conf["rpc-listen-port"]), conf["rpc-secret"], timeout=5.0)

    def all_uris(self) -> set[str]:
        """Every URI aria2 knows, active, waiting or stopped."""
        keys = ["gid", "files", "status"]
        with self.rpc() as client:
            tasks = (
                client.tell_active(keys)
                + client.tell_waiting(0, 10_000, keys)
                + client.tell_stopped(0, 10_000, keys)
            )
        uris = set()
        for task in tasks:
            for f in task.get("files", []):
                for uri in f.get("uris", []):
                    uris.add(uri["uri"])
        return uris

    def session_text(self) -> str:
        path = self.home / "engine" / "session.txt"
        return path.read_text() if path.exists() else ""

    def log_text(self) -> str:
        path = self.home / "logs" / "aria-tray.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_ready(self, timeout: float = 20.0) -> dict[str, Any]:
        """Wait until ``--status`` reports a ready engine; return the status."""
        import json

        def ready() -> dict[str, Any] | None:
            try:
                result = self.run("--status", timeout=30)
            except subprocess.TimeoutExpired:
                return None  # a primary busy starting (a loaded host): ask again
            if result.returncode != 0:
                return None
            status = json.loads(result.stdout)
            return status if status.get("engine_state") == "ready" else None

        return wait_until(ready, patience(timeout), interval=0.1)

    # -- cleaning up ------------------------------------------------------
    def dispose(self) -> None:
        """Quit the app if it runs, kill whatever is left by pid, remove the home."""
        if self.app_processes():
            try:
                self.run("--quit", timeout=20)
            except Exception:
                pass
        self.kill_everything()
        shutil.rmtree(self.home, ignore_errors=True)

    def kill_everything(self) -> list[int]:
        """Kill every process of this home; returns the pids that were still alive."""
        leftovers = []
        for proc in self.app_processes() + self.aria2c_processes():
            leftovers.append(proc.pid)
            try:
                proc.kill()
            except psutil.Error:
                pass
        for popen in self.launched:
            if popen.poll() is None:
                popen.kill()
            try:
                popen.wait(5)
            except subprocess.TimeoutExpired:
                pass
            for stream in (popen.stdout, popen.stderr):
                if stream is not None:
                    stream.close()
        return leftovers


def signal_and_wait(proc: subprocess.Popen[bytes], signum: int, timeout: float = 15.0) -> int:
    proc.send_signal(signum)
    return proc.wait(timeout)

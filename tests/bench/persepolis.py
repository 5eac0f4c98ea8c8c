"""Persepolis 3.0.1 (Debian's ``persepolis``), started and stopped from outside.

The other download manager in the side-by-side benchmarks. It refuses to
run as root, so as root it runs as a throwaway user created for the bench
(and removed afterwards); without root the comparison is skipped, since it
would use the developer's own Persepolis settings.

What it does at start matters for the probes: it starts
``aria2c --enable-rpc --rpc-listen-port <rpc-port> --rpc-listen-all``
(no secret, every interface) and detaches it, so that aria2c is not its
child. It is found by owner (the throwaway user runs nothing else) and by
the port in Persepolis' own config.
"""

from __future__ import annotations

import configparser
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

import psutil

BENCH_USER = "aria-tray-bench"
EXECUTABLE = shutil.which("persepolis")
CONFIG = Path(".config/persepolis_download_manager/persepolis.conf")
DEFAULT_PORT = 6801


def unavailable_reason() -> str | None:
    """Why the Persepolis column can't be measured here, or None when it can."""
    if EXECUTABLE is None:
        return "persepolis is not installed (apt-get install persepolis)"
    if os.geteuid() != 0:
        return "Persepolis refuses root and the bench needs root to make a throwaway user for it"
    return None


class Persepolis:
    """One throwaway user with its own home; ``launch``/``stop`` one Persepolis at a time."""

    def __init__(self, display_env: dict[str, str]) -> None:
        self.display_env = display_env
        self.proc: subprocess.Popen[bytes] | None = None
        subprocess.run(["userdel", "-r", BENCH_USER], capture_output=True)
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", BENCH_USER], check=True)
        self.home = Path(os.path.expanduser(f"~{BENCH_USER}"))

    # -- life -------------------------------------------------------------------
    def launch(self) -> subprocess.Popen[bytes]:
        env = {
            "HOME": str(self.home),
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "XDG_RUNTIME_DIR": str(self.home / ".run"),
            **{k: v for k, v in self.display_env.items() if k in ("DISPLAY", "QT_QPA_PLATFORM")},
        }
        (self.home / ".run").mkdir(mode=0o700, exist_ok=True)
        shutil.chown(self.home / ".run", BENCH_USER, BENCH_USER)
        # The child drops to the bench user itself before exec, as our app is
        # exec'd directly: ``runuser -u … -- env -i …`` cost two more execs and
        # a PAM session, 4 ms of its start that were not Persepolis'.
        account = pwd.getpwnam(BENCH_USER)
        self.proc = subprocess.Popen(
            [str(EXECUTABLE)],
            env=env,
            cwd=self.home,
            user=account.pw_uid,
            group=account.pw_gid,
            extra_groups=[],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self.proc

    def processes(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["username", "status"]):
            if proc.info["username"] == BENCH_USER and proc.info["status"] != "zombie":
                found.append(proc)
        return found

    def gui_process(self) -> psutil.Process | None:
        """The Python process running Persepolis itself (what holds its Qt UI)."""
        for proc in self.processes():
            with suppress(psutil.Error):
                if any("persepolis" in part for part in proc.cmdline()[1:2]):
                    return proc
        return None

    def aria2c_process(self) -> psutil.Process | None:
        for proc in self.processes():
            with suppress(psutil.Error):
                if proc.name().startswith("aria2c"):
                    return proc
        return None

    def stop(self, timeout: float = 15.0) -> None:
        """End Persepolis and its detached aria2c, and wait until none is left."""
        for proc in self.processes():
            with suppress(psutil.Error):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        for proc in self.processes():
            with suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(self.processes(), timeout=5)
        if self.proc is not None:
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
            self.proc = None

    def remove(self) -> None:
        self.stop()
        subprocess.run(["userdel", "-r", BENCH_USER], capture_output=True)

    # -- probes ---------------------------------------------------------------------
    def port(self) -> int:
        parser = configparser.ConfigParser(interpolation=None)
        with suppress(OSError, configparser.Error):
            parser.read(self.home / CONFIG)
        return parser.getint("settings", "rpc-port", fallback=DEFAULT_PORT)

    def listening(self) -> bool:
        """Something accepts TCP on 127.0.0.1:<its rpc-port> (only its aria2c does here)."""
        with socket.socket() as sock:
            sock.settimeout(0.2)
            return sock.connect_ex(("127.0.0.1", self.port())) == 0

    def rpc_ready(self) -> bool:
        """``aria2.getVersion`` answers; Persepolis sets no secret, so no token."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "aria2.getVersion"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port()}/jsonrpc",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=0.5) as answer:
                return "version" in json.loads(answer.read()).get("result", {})
        except (OSError, ValueError):
            return False

"""Start a real aria2c for a test, prove it answers, and always take it down.

The daemon is started the way the app must start it: loopback only, a random
secret in a private 0600 ``--conf-path`` (never on argv, where ``ps`` shows
it), ``daemon=false`` so it stays our child, and ``--stop-with-process`` so it
halts even if pytest itself is killed. Readiness is an *authenticated*
``aria2.getVersion``, not "the port is open": that proves both that it is
our aria2c and that the secret works.

Use it as a fixture (``aria2_daemon`` in ``tests/conftest.py``) or as a
context manager::

    with Aria2Daemon(tmp_path / "engine") as daemon:
        daemon.client.add_uri([url])
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from aria2_core.binary import find_aria2c
from aria2_core.errors import RpcConnectionError
from aria2_core.ports import pick_free_port
from aria2_core.rpc import Aria2Client

# Keep tests hermetic: no DHT/LPD/PEX traffic to the internet (and no UDP port
# fights between parallel daemons), no ~/.netrc, no preallocation delays.
TEST_DEFAULT_ARGS: tuple[str, ...] = (
    "--enable-dht=false",
    "--enable-dht6=false",
    "--bt-enable-lpd=false",
    "--enable-peer-exchange=false",
    "--no-netrc=true",
    "--file-allocation=none",
    "--summary-interval=0",
    "--console-log-level=warn",
)

# aria2c honours these like curl does; a developer's proxy must not see test traffic.
_PROXY_VARS = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy")

_EXIT_RPC_SETUP_FAILED = 1
_START_ATTEMPTS = 3


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS}


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only, from the first byte."""
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


class Aria2Daemon:
    """One aria2c child process with RPC on a free loopback port.

    ``base_dir`` holds everything it writes: ``aria2.conf``, ``session.txt``
    (used as both ``--input-file`` and ``--save-session``, so a second daemon
    on the same folder resumes the first one's queue), ``aria2c.log`` (its
    stdout and stderr) and the ``downloads`` folder.
    """

    def __init__(
        self,
        base_dir: str | os.PathLike[str],
        extra_args: Sequence[str] = (),
        *,
        secret: str | None = None,
        aria2c: str | os.PathLike[str] | None = None,
        ready_timeout: float = 10.0,
        stop_with_pid: int | None = None,
    ) -> None:
        self.base_dir = Path(base_dir).absolute()
        self.download_dir = self.base_dir / "downloads"
        self.conf_file = self.base_dir / "aria2.conf"
        self.session_file = self.base_dir / "session.txt"
        self.log_file = self.base_dir / "aria2c.log"
        self.extra_args = tuple(extra_args)
        self.secret = secret or secrets.token_hex(16)
        self.binary = Path(aria2c) if aria2c else find_aria2c()
        self.ready_timeout = ready_timeout
        self.stop_with_pid = stop_with_pid if stop_with_pid is not None else os.getpid()
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._client: Aria2Client | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> Aria2Daemon:
        """Start aria2c and return once it answers an authenticated getVersion.

        A port picked free can be taken before aria2c binds it; aria2c then
        exits with code 1, and we retry on a new port.
        """
        if self._proc is not None:
            return self
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.download_dir.mkdir(exist_ok=True)
        self.session_file.touch()  # a missing --input-file makes aria2c exit 1
        _write_private(
            self.conf_file,
            f"enable-rpc=true\nrpc-listen-all=false\ndaemon=false\nrpc-secret={self.secret}\n",
        )
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = pick_free_port()
            self._spawn()
            try:
                self._wait_ready()
                return self
            except _EarlyExit as exc:
                if exc.code != _EXIT_RPC_SETUP_FAILED or attempt == _START_ATTEMPTS:
                    self.stop()
                    raise RuntimeError(
                        f"aria2c exited with code {exc.code} during start-up:\n{self.log_text()}"
                    ) from None
                self._discard()
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def command(self) -> list[str]:
        """The argv used to start aria2c (the secret is not in it)."""
        return [
            str(self.binary),
            f"--conf-path={self.conf_file}",
            f"--rpc-listen-port={self.port}",
            f"--dir={self.download_dir}",
            f"--input-file={self.session_file}",
            f"--save-session={self.session_file}",
            f"--stop-with-process={self.stop_with_pid}",
            *TEST_DEFAULT_ARGS,
            *self.extra_args,
        ]

    def _spawn(self) -> None:
        with self.log_file.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                env=_clean_env(),
            )
        self._client = Aria2Client(self.port, self.secret)

    def _wait_ready(self) -> None:
        assert self._proc is not None and self._client is not None
        deadline = time.monotonic() + self.ready_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise _EarlyExit(code)
            try:
                self._client.call("aria2.getVersion", timeout=1.0)
                return
            except RpcConnectionError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"aria2c (pid {self._proc.pid}) did not answer RPC on port "
                        f"{self.port} within {self.ready_timeout:g} s:\n{self.log_text()}"
                    ) from None
            try:  # wait a little, but wake at once if aria2c exits
                self._proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass

    def _discard(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None
        self._proc = None

    def stop(self, timeout: float = 5.0) -> int | None:
        """Terminate (aria2c saves its session on SIGTERM), then kill. Safe to call twice.

        Returns aria2c's exit code, or ``None`` if it was never started.
        """
        proc = self._proc
        if self._client is not None:
            self._client.close()
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        return proc.returncode

    def wait_exit(self, timeout: float) -> int:
        """Wait for aria2c to exit on its own (after shutdown); raise on timeout."""
        assert self._proc is not None
        return self._proc.wait(timeout=timeout)

    def __enter__(self) -> Aria2Daemon:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- accessors ---------------------------------------------------------------
    @property
    def client(self) -> Aria2Client:
        if self._client is None:
            raise RuntimeError("aria2c is not started")
        return self._client

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("aria2c is not started")
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


class _EarlyExit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def wait_for_status(
    client: Aria2Client,
    gid: str,
    statuses: Iterable[str] = ("complete",),
    timeout: float = 30.0,
    interval: float = 0.05,
) -> dict[str, Any]:
    """Poll ``tellStatus`` until the download reaches one of ``statuses``; return it.

    A bounded poll, because aria2 only *pushes* state over WebSocket. A
    download that ends in another final state fails fast with aria2's own
    error message instead of running into the timeout.
    """
    wanted = set(statuses)
    final = {"complete", "error", "removed"}
    deadline = time.monotonic() + timeout
    while True:
        status = client.tell_status(gid)
        state = status.get("status")
        if state in wanted:
            return status
        if state in final:
            raise AssertionError(
                f"download {gid} ended as {state!r} (error {status.get('errorCode')}: "
                f"{status.get('errorMessage')!r}), expected one of {sorted(wanted)}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"download {gid} still {state!r} after {timeout:g} s")
        time.sleep(interval)

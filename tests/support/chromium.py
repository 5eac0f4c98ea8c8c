"""A real headless Chromium with our extension loaded, driven over the DevTools protocol.

Chromium speaks CDP over a pipe (``--remote-debugging-pipe``: it reads
NUL-terminated JSON on fd 3 and writes on fd 4), so no port is opened and
no websocket library is needed. One reader thread collects replies and
events; :meth:`Chromium.call` sends a command and waits for its reply.

Debian's chromium still honours ``--load-extension`` (branded Chrome 137+
ignores it). The profile is a throwaway ``--user-data-dir``; its
``NativeMessagingHosts`` folder is where ``--register`` puts our host
manifest (the test makes the folder ``$XDG_CONFIG_HOME/chromium``, the path
Chromium's user data lives at by default). Every process of the browser is
in its own session, and :meth:`Chromium.stop` kills that process group.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

# Not google-chrome: branded Chrome 137+ ignores --load-extension.
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
CALL_TIMEOUT_S = 30.0


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class CdpError(RuntimeError):
    pass


class Chromium:
    """One headless browser process tree, its CDP pipe and its sessions."""

    def __init__(
        self,
        binary: str,
        profile: Path,
        extension: Path,
        env: dict[str, str],
        log: Path,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.binary = binary
        self.extra_args = extra_args
        self.profile = profile
        self.extension = extension
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._replies: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._write_fd = -1
        self._reader: threading.Thread | None = None

    def set_download_dir(self, folder: Path) -> None:
        """The browser's own download folder, without asking: written before start."""
        prefs = self.profile / "Default" / "Preferences"
        prefs.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "download": {"default_directory": str(folder), "prompt_for_download": False},
            "savefile": {"default_directory": str(folder)},
        }
        prefs.write_text(json.dumps(data))

    def start(self) -> Chromium:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()

        def wire_pipes() -> None:  # in the child, before exec
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        args = [
            self.binary,
            "--headless=new",
            "--no-sandbox",  # we are root in CI containers
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--password-store=basic",
            "--disable-features=DisableLoadExtensionCommandLineSwitch",
            f"--user-data-dir={self.profile}",
            f"--load-extension={self.extension}",
            "--remote-debugging-pipe",
            *self.extra_args,
            "about:blank",
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                args,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(3, 4),
                preexec_fn=wire_pipes,
                start_new_session=True,
            )
        os.close(to_child_r)
        os.close(from_child_w)
        self._write_fd = to_child_w
        self._reader = threading.Thread(target=self._read, args=(from_child_r,), daemon=True)
        self._reader.start()
        return self

    def _read(self, fd: int) -> None:
        buffer = b""
        try:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                buffer += chunk
                while b"\0" in buffer:
                    raw, buffer = buffer.split(b"\0", 1)
                    message = json.loads(raw)
                    with self._lock:
                        if "id" in message:
                            self._replies[message["id"]] = message
                        else:
                            self.events.append(message)
                        self._lock.notify_all()
        finally:
            os.close(fd)
            with self._lock:
                self._lock.notify_all()

    def call(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        """Send one command and return its result; raise CdpError on an error reply."""
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + CALL_TIMEOUT_S
        with self._lock:
            while message_id not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc is not None and self.proc.poll() is not None):
                    raise CdpError(f"{method}: no reply (browser log: {self.log})")
                self._lock.wait(min(left, 0.5))
            reply = self._replies.pop(message_id)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    # -- targets -------------------------------------------------------------
    def targets(self) -> list[dict[str, Any]]:
        return list(self.call("Target.getTargets")["targetInfos"])

    def attach(self, target_id: str) -> str:
        return str(
            self.call("Target.attachToTarget", {"targetId": target_id, "flatten": True})[
                "sessionId"
            ]
        )

    def evaluate(self, session: str, expression: str) -> Any:
        """Evaluate JavaScript (promises awaited) and return its JSON value."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session,
        )
        if "exceptionDetails" in result:
            raise CdpError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open_page(self, url: str) -> str:
        """A new tab at ``url``, loaded; returns its session."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.attach(target)
        self.call("Page.enable", {}, session)
        self.call("Page.navigate", {"url": url}, session)
        return session

    def stop(self) -> None:
        """Close the browser; then kill its whole process group. Safe to call twice."""
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                self.call("Browser.close")
                self.proc.wait(10)
        except (CdpError, OSError, subprocess.TimeoutExpired):
            pass
        if sys.platform == "win32":  # no process groups there
            self.proc.kill()
        else:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.proc.wait(10)
        if self._write_fd >= 0:
            os.close(self._write_fd)
            self._write_fd = -1
        self.proc = None

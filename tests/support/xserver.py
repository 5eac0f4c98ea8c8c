"""A private X server with a system tray, for tests that need a real tray icon.

``QT_QPA_PLATFORM=offscreen`` has no system tray, so the tray itself can only
be tested on a real X server. :class:`XServer` starts

* ``Xvfb`` on a display number it picks itself (``-displayfd`` writes the
  number back once the server accepts connections, so there is no guessing
  and no race with a parallel run), and
* ``trayer`` on that display, then waits until the ``_NET_SYSTEM_TRAY_S0``
  selection has an owner: that, not "the trayer process exists", is what
  ``QSystemTrayIcon.isSystemTrayAvailable()`` looks at.

Both are stopped by PID in :meth:`XServer.stop`, whatever happened. The
selection owner is read with two Xlib calls through :mod:`ctypes`, so no
python-xlib is needed and no Qt is imported in the test process.

The environment for the app (:meth:`XServer.env`) also points D-Bus at a
socket that does not exist: otherwise Qt would prefer a StatusNotifierItem on
a developer's real session bus, and the icon would land in their desktop's
panel instead of in trayer.

In pytest, use :func:`tray_server`: it skips when the tools are missing, or
fails when ``ARIA_TRAY_REQUIRE_TRAY=1`` (CI) says they must be there.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .xlib import Xlib, XServerUnavailable

REQUIRE_ENV = "ARIA_TRAY_REQUIRE_TRAY"
TRAY_SELECTION = "_NET_SYSTEM_TRAY_S0"
START_TIMEOUT_S = 15.0

# Debian package that provides each tool we run.
TOOLS = {
    "Xvfb": "xvfb",
    "trayer": "trayer",
    "xdotool": "xdotool",
    "xwininfo": "x11-utils",
    "xprop": "x11-utils",
    "import": "imagemagick",
}


def missing_tools() -> list[str]:
    """Tools from :data:`TOOLS` that are not on PATH, as ``name (package)``."""
    return [f"{tool} ({pkg})" for tool, pkg in TOOLS.items() if shutil.which(tool) is None]


@dataclass(frozen=True)
class WindowInfo:
    """What ``xwininfo -id`` says about one window."""

    id: int
    x: int
    y: int
    width: int
    height: int
    viewable: bool
    override_redirect: bool


class XServer:
    """``Xvfb`` plus ``trayer`` on a free display; a context manager.

    >>> with XServer() as x:
    ...     subprocess.run(["my-app"], env={**os.environ, **x.env()})
    """

    def __init__(self, width: int = 1280, height: int = 800, depth: int = 24) -> None:
        self.screen = f"{width}x{height}x{depth}"
        self.display = ""
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._trayer: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._xlib: Xlib | None = None

    # -- life -------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT_S, tray: bool = True) -> XServer:
        """Start Xvfb and trayer; return once a tray owns the tray selection.

        With ``tray=False`` only Xvfb starts; :meth:`start_tray` adds the tray
        later (a panel that starts after the app). Raises
        :class:`XServerUnavailable` (after cleaning up) when a tool is missing
        or the server or tray do not come up within ``timeout``.
        """
        missing = missing_tools()
        if missing:
            raise XServerUnavailable(
                "missing X tools: " + ", ".join(missing) + "; apt-get install them"
            )
        self._xlib = Xlib()
        self._dir = Path(tempfile.mkdtemp(prefix="aria-tray-x-"))
        try:
            self._start_xvfb(timeout)
            if tray:
                self.start_tray(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_xvfb(self, timeout: float) -> None:
        assert self._dir is not None
        read_fd, write_fd = os.pipe()
        try:
            with open(self._dir / "xvfb.log", "wb") as log:
                self._xvfb = subprocess.Popen(
                    [
                        "Xvfb",
                        "-displayfd",
                        str(write_fd),
                        "-screen",
                        "0",
                        self.screen,
                        "-nolisten",
                        "tcp",
                        "-noreset",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(write_fd,),
                )
            os.close(write_fd)
            write_fd = -1
            number = self._read_display_number(read_fd, timeout)
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        self.display = f":{number}"

    def _read_display_number(self, fd: int, timeout: float) -> int:
        """Xvfb writes ``N\\n`` to the ``-displayfd`` pipe once it accepts clients."""
        assert self._xvfb is not None
        deadline = time.monotonic() + timeout
        data = b""
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise XServerUnavailable(f"Xvfb gave no display number in {timeout} s")
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 64)
                if not chunk:
                    break  # Xvfb exited (or closed the pipe) before writing
                data += chunk
            elif self._xvfb.poll() is not None:
                break
        if b"\n" not in data:
            raise XServerUnavailable(f"Xvfb exited early: {self._log_tail('xvfb.log')}")
        return int(data.strip())

    def start_tray(self, timeout: float = START_TIMEOUT_S) -> None:
        """Start trayer (if it is not running) and wait until it owns the tray selection."""
        assert self._dir is not None and self._xlib is not None, "start() first"
        if self._trayer is not None and self._trayer.poll() is None:
            return
        with open(self._dir / "trayer.log", "wb") as log:
            self._trayer = subprocess.Popen(
                [
                    "trayer",
                    "--edge",
                    "top",
                    "--align",
                    "right",
                    "--widthtype",
                    "request",
                    "--height",
                    "32",
                    "--transparent",
                    "false",
                    "--tint",
                    "0xffffff",
                    "--SetDockType",
                    "true",
                ],
                env={**os.environ, **self.env()},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not self.tray_owner():
            if self._trayer.poll() is not None:
                raise XServerUnavailable(
                    f"trayer exited with code {self._trayer.returncode}: "
                    f"{self._log_tail('trayer.log')}"
                )
            if time.monotonic() > deadline:
                raise XServerUnavailable(f"trayer did not own {TRAY_SELECTION} in {timeout} s")
            time.sleep(0.02)

    def stop_tray(self) -> None:
        """Stop trayer by PID, e.g. to test a desktop whose panel is gone."""
        if self._trayer is not None and self._trayer.poll() is None:
            self._trayer.terminate()
            try:
                self._trayer.wait(5)
            except subprocess.TimeoutExpired:
                self._trayer.kill()
                self._trayer.wait(5)
        self._trayer = None

    def stop(self) -> None:
        """Stop trayer, then Xvfb, by PID; reap both. Safe to call twice."""
        for proc in (self._trayer, self._xvfb):
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._trayer = self._xvfb = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def pids(self) -> list[int]:
        """PIDs of the Xvfb and trayer processes we started and that still run."""
        return [p.pid for p in (self._xvfb, self._trayer) if p is not None and p.poll() is None]

    def __enter__(self) -> XServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- for the app under test -------------------------------------------
    def env(self) -> dict[str, str]:
        """Variables that put a Qt app on this display, with XEmbed tray icons."""
        return {
            "DISPLAY": self.display,
            "QT_QPA_PLATFORM": "xcb",
            # No session bus: Qt then uses the XEmbed tray (trayer), not a
            # StatusNotifierItem on whatever desktop the developer runs.
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/aria-tray-test-bus",
        }

    def run(self, *cmd: str, check: bool = True, timeout: float = 10.0) -> str:
        """Run an X client (xdotool, xwininfo, …) on this display; return its stdout."""
        result = subprocess.run(
            cmd,
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr}")
        return result.stdout

    # -- looking at the screen --------------------------------------------
    def tray_owner(self) -> int:
        """The window that owns the tray selection, or 0."""
        if not self.display or self._xlib is None:
            return 0
        return self._xlib.selection_owner(self.display, TRAY_SELECTION)

    def search(self, *criteria: str, visible_only: bool = True) -> list[int]:
        """``xdotool search`` (e.g. ``"--class", "aria-tray"``); window ids."""
        args = ["xdotool", "search"]
        if visible_only:
            args.append("--onlyvisible")
        # xdotool exits 1 when nothing matches.
        out = self.run(*args, *criteria, check=False)
        return [int(line) for line in out.split()]

    def window_info(self, window: int) -> WindowInfo | None:
        """Geometry and map state of ``window``; None once it is gone."""
        out = self.run("xwininfo", "-id", str(window), check=False)
        if "Absolute upper-left X" not in out:
            return None

        def field(name: str) -> str:
            match = re.search(rf"{name}:\s+(\S+)", out)
            return match.group(1) if match else ""

        return WindowInfo(
            id=window,
            x=int(field("Absolute upper-left X")),
            y=int(field("Absolute upper-left Y")),
            width=int(field("Width")),
            height=int(field("Height")),
            viewable=field("Map State") == "IsViewable",
            override_redirect=field("Override Redirect State") == "yes",
        )

    def parent(self, window: int) -> int:
        """The parent window of ``window``; 0 for the root or a vanished window."""
        out = self.run("xwininfo", "-children", "-id", str(window), check=False)
        match = re.search(r"Parent window id:\s+(0x[0-9a-fA-F]+)", out)
        return int(match.group(1), 16) if match else 0

    def ancestors(self, window: int) -> list[int]:
        chain: list[int] = []
        current = self.parent(window)
        while current and len(chain) < 32:
            chain.append(current)
            current = self.parent(current)
        return chain

    def window_types(self, window: int) -> list[str]:
        """``_NET_WM_WINDOW_TYPE`` of ``window`` (e.g. ``_NET_WM_WINDOW_TYPE_POPUP_MENU``)."""
        out = self.run("xprop", "-id", str(window), "_NET_WM_WINDOW_TYPE", check=False)
        _, _, values = out.partition("=")
        return [v.strip() for v in values.split(",") if v.strip()]

    def tray_icons(self, wm_class: str) -> list[int]:
        """Visible windows of ``wm_class`` embedded in trayer (a trayer window is an ancestor)."""
        trayer_windows = set(self.search("--class", "trayer", visible_only=False))
        return [
            w
            for w in self.search("--class", wm_class)
            if trayer_windows.intersection(self.ancestors(w))
        ]

    def popup_menus(self, wm_class: str) -> list[WindowInfo]:
        """Mapped popup-menu windows of ``wm_class`` (a ``QMenu`` is one)."""
        found = []
        for window in self.search("--class", wm_class):
            if "_NET_WM_WINDOW_TYPE_POPUP_MENU" not in self.window_types(window):
                continue
            info = self.window_info(window)
            if info is not None and info.viewable:
                found.append(info)
        return found

    def click(self, window: int, button: int, x: int | None = None, y: int | None = None) -> None:
        """Move the pointer into ``window`` (its centre by default) and click ``button``."""
        info = self.window_info(window)
        if info is None:
            raise RuntimeError(f"window {window:#x} is gone")
        px = info.width // 2 if x is None else x
        py = info.height // 2 if y is None else y
        self.run("xdotool", "mousemove", "--window", str(window), str(px), str(py))
        self.run("xdotool", "click", str(button))

    def close(self, window: int) -> None:
        """Ask ``window`` to close, as a window manager's close button does."""
        assert self._xlib is not None, "start() first"
        self._xlib.close_window(self.display, window)

    def key(self, *keys: str) -> None:
        """Type keys (``"Escape"``, ``"Up"``, ``"Return"``) to the focused window."""
        self.run("xdotool", "key", *keys)

    def screenshot(self, path: Path | str, crop: WindowInfo | None = None, margin: int = 0) -> Path:
        """Save the whole screen (or the area of ``crop`` plus ``margin``) as an image."""
        path = Path(path)
        args = ["import", "-window", "root"]
        if crop is not None:
            x, y = max(crop.x - margin, 0), max(crop.y - margin, 0)
            args += ["-crop", f"{crop.width + 2 * margin}x{crop.height + 2 * margin}+{x}+{y}"]
        self.run(*args, str(path))
        return path

    # -- helpers ----------------------------------------------------------
    def _log_tail(self, name: str) -> str:
        if self._dir is None:
            return ""
        try:
            text = (self._dir / name).read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-5:])


def tray_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


@contextmanager
def tray_server(tray: bool = True) -> Iterator[XServer]:
    """For pytest: an :class:`XServer`, or a skip (a failure under ``ARIA_TRAY_REQUIRE_TRAY=1``).

    ``tray=False`` starts the X server without trayer (see :meth:`XServer.start_tray`).
    """
    import pytest

    if sys.platform == "win32":  # Xvfb, trayer and xdotool are Linux programs
        pytest.skip("drives an X server's system tray (Xvfb + trayer), a Linux desktop")
    server = XServer()
    try:
        server.start(tray=tray)
    except XServerUnavailable as exc:
        reason = f"no X server with a system tray: {exc}"
        if tray_required():
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1 requires it)")
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()

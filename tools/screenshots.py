"""README screenshots of the real app, in English and 简体中文 (``make screenshots``).

What it does:

1. starts a private X server with a system tray (``tests/support/xserver.py``:
   Xvfb + trayer), once for all languages;
2. per language, launches the real app in a harness process
   (``tools/screenshot_harness.py``: a temporary ``ARIA_TRAY_HOME``,
   ``ARIA_TRAY_LANG=<lang>``) with real aria2c downloads from a local HTTP
   server (``tests/support/http_server.py``): three running at set speeds,
   one paused, one finished, one failed and a web-seeded torrent that
   finishes and seeds, so every kind of row shows;
3. photographs, with ImageMagick's ``import``: first the window a first run
   shows by itself (an empty list that says what to do), then, with the
   downloads in, the main window, the tray menu (opened by right-clicking
   the icon in trayer with ``xdotool``, as a user would), the add dialog,
   the drop zone, and last the window's banner for a failed download engine
   (aria2c made to refuse an option).

The harness takes one-line commands on stdin (``scene``, ``window``,
``add-dialog``, ``drop-zone``, ``engine-failed``, ``hide``, ``quit``), shows that
piece and answers with its X window id; nothing in the app itself knows
about screenshots. A piece this build does not have (yet) is skipped with a
message and its old PNG stays,
so the script can simply be run again later.

Every process it starts (Xvfb, trayer, the harness and so the app, its
aria2c and the HTTP server's threads) is stopped by PID, whatever happens.

    python tools/screenshots.py                    # both languages -> resources/screenshots/
    python tools/screenshots.py --lang zh_CN --out /tmp/shots
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "screenshots"
HARNESS = Path(__file__).resolve().parent / "screenshot_harness.py"
LANGUAGES = ("en", "zh_CN")
WM_CLASS = "aria-tray"
PREFIX = "@@ "  # harness replies start with this; anything else on stdout is noise
BACKGROUND = 0xD6DBE1  # the "desktop" behind menus and margins
MIB = 1024 * 1024


@dataclass(frozen=True)
class Item:
    """One download in the scene."""

    name: str
    size: int  # bytes; large files are sparse on the server, nothing is really stored
    target: float = 1.0  # fraction to reach before settling; 1.0 = let it finish
    limit: int = 0  # bytes/s once the target is reached
    pause: bool = False
    missing: bool = False  # not on the server: a 404, a failed row
    torrent: bool = False  # added as a web-seeded .torrent: it finishes, then seeds


SCENE = (
    Item("debian-12.7.0-amd64-netinst.iso", 661 * MIB, 0.46, 2_350_000),
    Item("Big_Buck_Bunny_1080p_surround.mp4", 276 * MIB, 0.72, 840_000),
    Item("LibreOffice_24.8.2_Linux_x86-64_deb.tar.gz", 214 * MIB, 0.21, 4_150_000),
    Item("archlinux-2024.10.01-x86_64.iso", 1_187 * MIB, 0.17, pause=True),
    Item("aria2-1.37.0.tar.xz", 1_597_440),
    Item("sintel-2010-720p.mkv", 14 * MIB, torrent=True),
    Item("holiday-photos-2023.zip", 0, missing=True),
)


def set_root_background(display: str, rgb: int) -> None:
    """Paint the X root window (Xvfb's is black), so menus sit on a calm desktop."""
    name = ctypes.util.find_library("X11")
    if name is None:
        return
    lib = ctypes.CDLL(name)
    lib.XOpenDisplay.restype = ctypes.c_void_p
    lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    lib.XDefaultRootWindow.restype = ctypes.c_ulong
    lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    lib.XSetWindowBackground.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    lib.XClearWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    lib.XFlush.argtypes = [ctypes.c_void_p]
    lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = lib.XOpenDisplay(display.encode())
    if not dpy:
        return
    try:
        root = lib.XDefaultRootWindow(dpy)
        lib.XSetWindowBackground(dpy, root, rgb)
        lib.XClearWindow(dpy, root)
        lib.XFlush(dpy)
    finally:
        lib.XCloseDisplay(dpy)


class HarnessProcess:
    """The app under test in a child process, driven one command at a time."""

    def __init__(self, env: dict[str, str], www: Path, log: Path) -> None:
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(HARNESS), str(www)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        self._replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(PREFIX):
                self._replies.put(line[len(PREFIX) :].strip())
        self._replies.put("eof")

    def reply(self, timeout: float) -> tuple[str, str]:
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"the harness did not answer within {timeout} s") from None
        word, _, rest = line.partition(" ")
        if word in ("eof", "error"):
            raise RuntimeError(f"harness: {line} (log: {self._log.name})")
        return word, rest

    def ask(self, command: str, timeout: float = 30.0) -> tuple[str, str]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.reply(timeout)

    def stop(self) -> None:
        """Quit the app the orderly way (it stops its aria2c); kill by PID if it hangs."""
        if self.proc.poll() is None:
            try:
                self.ask("quit", timeout=5)
            except (RuntimeError, OSError):
                pass
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def leftover_aria2c(home: Path) -> list[int]:
    """PIDs of aria2c processes still running on ``home``'s config (should be none)."""
    import psutil

    needle = f"--conf-path={home / 'engine' / 'aria2.conf'}"
    pids = []
    for proc in psutil.process_iter(["cmdline"]):
        if needle in (proc.info.get("cmdline") or []):
            pids.append(proc.pid)
    return pids


def kill_pids(pids: list[int]) -> None:
    import psutil

    for pid in pids:
        try:
            proc = psutil.Process(pid)
            proc.kill()
            proc.wait(5)
        except psutil.Error:
            pass


def shoot_language(lang: str, xserver: Any, www: Path, out: Path, work: Path) -> list[str]:
    """All shots for one language; returns what was skipped and why."""
    home = work / lang / "home"
    downloads = work / lang / "Downloads"  # shown in the details pane and the add dialog
    downloads.mkdir(parents=True)
    env = {
        **os.environ,
        **xserver.env(),
        "ARIA_TRAY_HOME": str(home),
        "ARIA_TRAY_DOWNLOAD_DIR": str(downloads),
        "ARIA_TRAY_LANG": lang,
        "ARIA_TRAY_LOG_STDERR": "0",
        "PYTHONPATH": str(ROOT),
    }
    skipped: list[str] = []
    harness = HarnessProcess(env, www, work / f"harness-{lang}.log")
    try:

        def shoot(name: str, word: str, detail: str) -> None:
            if word == "skip":
                skipped.append(f"{name}-{lang}.png: {detail}")
                print(f"[{lang}] skipped {name}: {detail}")
                return
            path = out / f"{name}-{lang}.png"
            xserver.run("import", "-window", detail, "-strip", str(path))
            print(f"[{lang}] {_shown(path)}")

        def grab(command: str, name: str) -> None:
            shoot(name, *harness.ask(command))

        # The very first start shows the window by itself, with an empty list.
        shoot("first-run", *harness.reply(timeout=120))
        _, detail = harness.ask("scene", timeout=240)  # "ready": every row where we want it
        print(f"[{lang}] scene ready: {detail}")
        grab("window", "window")
        harness.ask("hide")
        grab("add-dialog", "add-dialog")
        harness.ask("hide")
        grab("drop-zone", "drop-zone")
        harness.ask("hide")

        skipped += shoot_tray_menu(lang, xserver, out)
        grab("engine-failed", "engine-failed")  # last: it stops aria2c for good
    finally:
        harness.stop()
        stray = leftover_aria2c(home)
        if stray:
            print(f"[{lang}] killing leftover aria2c {stray}")
            kill_pids(stray)
    return skipped


def shoot_tray_menu(lang: str, xserver: Any, out: Path) -> list[str]:
    """The tray menu, opened the way a user opens it: a right click on the icon."""
    from support.app_process import wait_until

    try:
        icons = wait_until(lambda: xserver.tray_icons(WM_CLASS), timeout=20)
        icon = xserver.window_info(icons[0])
        # Clicked low on the icon, the menu opens below it and leaves it in view.
        xserver.click(icons[0], 3, icon.width // 2, icon.height - 2)
        menus = wait_until(lambda: xserver.popup_menus(WM_CLASS), timeout=10)
    except TimeoutError as exc:
        print(f"[{lang}] skipped tray-menu: {exc}")
        return [f"tray-menu-{lang}.png: no tray icon or menu ({exc})"]
    time.sleep(0.3)  # let the menu finish painting
    menu = menus[0]
    left = max(min(menu.x, icon.x) - 40, 0)
    right = max(menu.x + menu.width, icon.x + icon.width) + 24
    bottom = menu.y + menu.height + 24
    path = out / f"tray-menu-{lang}.png"
    xserver.run(
        "import", "-window", "root", "-crop", f"{right - left}x{bottom}+{left}+0",
        "+repage", "-strip", str(path),
    )  # fmt: skip
    print(f"[{lang}] {_shown(path)}")
    xserver.key("Escape")
    return []


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def build_scene(www: Path) -> None:
    """Files for the HTTP server, sparse where large (gigabytes of zeros cost nothing)."""
    www.mkdir(parents=True, exist_ok=True)
    for item in SCENE:
        if item.missing:
            continue
        with (www / item.name).open("wb") as f:
            if item.target < 1.0 and not item.torrent:
                f.truncate(item.size)
            else:
                f.write(os.urandom(item.size))


def driver(args: argparse.Namespace) -> int:
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the app's folders and the test support
    from support.xserver import XServer, XServerUnavailable

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="shots-"))
    xserver = XServer(width=1280, height=800)
    skipped: list[str] = []
    try:
        build_scene(work / "www")
        try:
            xserver.start()
        except XServerUnavailable as exc:
            print(f"cannot take screenshots: {exc}", file=sys.stderr)
            return 1
        set_root_background(xserver.display, BACKGROUND)
        for lang in args.lang:
            skipped += shoot_language(lang, xserver, work / "www", out, work)
    finally:
        xserver.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for line in skipped:
        print(f"skipped {line}")
    print(f"screenshots in {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", nargs="+", default=list(LANGUAGES), choices=LANGUAGES)
    parser.add_argument("--out", default=str(OUT), help="folder for the PNGs")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    return driver(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

"""The app side of ``tools/screenshots.py``: the real app, set up for photographs.

``python tools/screenshot_harness.py WWW`` serves the files in ``WWW`` over
local HTTP, wraps ``desktop.app.PrimaryApp`` so it can reach the running
app's objects, and runs the app exactly as a user would (``desktop.cli.main``
with the scene's links). :class:`Stage` then

* drives the scene: each download runs fast up to its target fraction, then
  the server slows that file to its set speed (or the app pauses it), so
  rows show believable progress, speeds and ETAs;
* first says ``@@ first-run <X window id>``: the app starts with no links
  on a fresh home, and a first run shows its window with the empty list;
* answers the driver's one-line commands on stdin (``scene`` adds the
  downloads, ``window``, ``add-dialog``, ``drop-zone``, ``tray-action <name>``,
  ``engine-failed``, ``hide``, ``quit``)
  by showing that piece and replying
  ``@@ ok <X window id>``, or ``@@ skip <why>`` when this build has no such
  piece (yet).

Pieces are found the way the UI reaches them: the add dialog through the
window's "Add download…" action, the drop zone through the tray menu's action
whose object name holds ``drop``. Whatever window appears next is the one to
photograph, so the harness knows nothing of their classes.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QPlainTextEdit, QWidget

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(TOOLS)]

from screenshots import MIB, PREFIX, SCENE  # noqa: E402

WINDOW_SIZE = (1060, 600)
ADD_DIALOG_TEXT = (
    "https://cdimage.debian.org/debian-cd/current/amd64/iso-cd/debian-12.7.0-amd64-netinst.iso\n"
    "https://download.blender.org/demo/movies/BBB/bbb_sunflower_1080p_30fps_normal.mp4\n"
    "magnet:?xt=urn:btih:dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c&dn=Big+Buck+Bunny\n"
    "htps:/example.org/broken-link.zip\n"
)
SETTLE_MS = 10_000  # aria2's speeds are moving averages: let them settle on the new rates


def say(line: str) -> None:
    sys.stdout.write(PREFIX + line + "\n")
    sys.stdout.flush()


def is_tray_icon(w: QWidget) -> bool:
    """Qt's XEmbed tray icon is a top-level widget of its own: never hide it."""
    return w.metaObject().className() == "QSystemTrayIconSys"


def visible_windows() -> list[QWidget]:
    """Visible top-level windows, without menus, the tray icon and tooltip-like balloons."""
    found = []
    for w in QApplication.topLevelWidgets():
        if not w.isVisible() or isinstance(w, QMenu) or is_tray_icon(w):
            continue
        if w.windowType() in (Qt.WindowType.ToolTip, Qt.WindowType.Popup):
            continue
        found.append(w)
    return found


class Stage(QObject):
    """Sets the scene (speeds, a pause) and shows what the driver asks for."""

    def __init__(self, primary: Any, server: Any, links: list[str]) -> None:
        super().__init__(primary)
        self.primary = primary
        self.server = server
        self.links = links
        self.controller = primary.controller
        self.window = primary.ui.window
        primary.ui.notifier.enabled = False  # no balloons over the pictures
        self._plan = {item.name: item for item in SCENE}
        self._settled: set[str] = set()
        self._ready_sent = False
        self._buffer = b""
        self._notifier = QSocketNotifier(0, QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_stdin)
        self.controller.downloads_refreshed.connect(self._on_rows)
        self._first_run_deadline = time.monotonic() + 60
        QTimer.singleShot(100, self._look_for_first_run)

    def _look_for_first_run(self) -> None:
        """The first run's window, once it shows and the engine is ready."""
        engine_ready = self.controller.engine.client is not None
        if self.window.isVisible() and engine_ready:
            self.window.resize(*WINDOW_SIZE)
            QTimer.singleShot(1500, lambda: say(f"first-run {int(self.window.winId())}"))
        elif time.monotonic() > self._first_run_deadline:
            say("skip the first run showed no window")
        else:
            QTimer.singleShot(100, self._look_for_first_run)

    # -- the scene ------------------------------------------------------------
    def _on_rows(self, rows: list[Any]) -> None:
        by_name = {row.name: row for row in rows}
        for name, item in self._plan.items():
            row = by_name.get(name)
            if row is None or name in self._settled:
                continue
            if item.torrent:  # done when it has all its data and seeds
                if getattr(row, "is_seeding", False):
                    self._settled.add(name)
                continue
            if item.missing or item.target >= 1.0:
                if row.status in ("complete", "error", "removed"):
                    self._settled.add(name)
                continue
            # Switch a little early: the next refresh is a second away.
            coming = row.completed_length + row.download_speed * 1.2
            if row.total_length and coming >= item.target * row.total_length:
                if item.pause:
                    self.controller.pause([row.gid])
                else:
                    per_connection = item.limit // max(row.connections, 1)
                    self.server.file_throttle[name] = max(per_connection, 1024)
                self._settled.add(name)
        if len(self._settled) == len(self._plan) and not self._ready_sent:
            self._ready_sent = True
            QTimer.singleShot(SETTLE_MS, lambda: say(f"ready {len(rows)} rows"))

    # -- commands -------------------------------------------------------------
    def _on_stdin(self) -> None:
        chunk = os.read(0, 4096)
        if not chunk:  # the driver is gone: leave, the orderly way
            self._notifier.setEnabled(False)
            self.primary.request_quit("screenshots: stdin closed")
            return
        self._buffer += chunk
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            try:
                self._command(line.decode().strip())
            except Exception as exc:  # report and keep serving: the driver decides
                say(f"error {type(exc).__name__}: {exc}")

    def _command(self, command: str) -> None:
        if command == "scene":
            self.window.show_window()  # the list refreshes every second while it is seen
            self.controller.submit(self.links, source="screenshots")
        elif command == "window":
            self._show_window()
        elif command == "add-dialog":
            self._open_new_window(self._add_action(), "the add dialog", self._fill_add)
        elif command == "drop-zone":
            self._open_new_window(self._tray_action("drop"), "the drop zone", None)
        elif command.startswith("tray-action "):  # any other piece, for a look by hand
            needle = command.split(" ", 1)[1]
            self._open_new_window(self._tray_action(needle), f"tray action {needle!r}", None)
        elif command == "engine-failed":
            self._fail_engine()
        elif command == "hide":
            self._hide_all()
            QTimer.singleShot(300, lambda: say("ok"))
        elif command == "quit":
            say("ok")
            self.primary.request_quit("screenshots")
        else:
            say(f"error unknown command {command!r}")

    def _show_window(self) -> None:
        window = self.window
        window.resize(*WINDOW_SIZE)
        window.show_window()
        first = SCENE[0].name  # selected, so the details pane has something to show
        for row in range(window.proxy.rowCount()):
            if window.proxy.index(row, 0).data() == first:
                window.table.selectRow(row)
                break
        window.table.setFocus()
        # Details arrive from the worker; a refresh later the rows are repainted.
        QTimer.singleShot(2500, lambda: say(f"ok {int(window.winId())}"))

    def _fail_engine(self) -> None:
        """Make aria2c fail for real (an option it refuses), then show the window's banner.

        The settings file is not touched: the bad option goes only into the
        engine's next conf file, the way a hand-edited settings file would.
        """
        from dataclasses import replace

        engine = self.controller.engine
        good = self.controller.engine_settings()
        bad = replace(good, extra_options={**good.extra_options, "max-tries": "abc"})
        engine.update_settings(bad)
        engine.stop(engine.restart)
        deadline = time.monotonic() + 20

        def look() -> None:
            banner = self.window.findChild(QWidget, "engine-banner")
            if banner is not None and not banner.isHidden():
                engine.update_settings(good)  # "Try again" would now work
                self._show_window()
            elif time.monotonic() > deadline:
                say(f"skip the engine-failed banner did not appear (engine: {engine.state})")
            else:
                QTimer.singleShot(100, look)

        QTimer.singleShot(100, look)

    def _hide_all(self) -> None:
        for w in QApplication.topLevelWidgets():
            if not w.isVisible() or isinstance(w, QMenu) or is_tray_icon(w):
                continue
            if isinstance(w, QDialog):
                w.reject()
            else:
                w.hide()  # windows, and tray balloons that would cover the menu
        drop = self._tray_action("drop")
        if drop is not None and drop.isCheckable() and drop.isChecked():
            drop.trigger()  # off again, the way the user turns it off

    def _add_action(self) -> QAction | None:
        actions = getattr(getattr(self.window, "window_actions", None), "actions", {})
        return actions.get("add") or self._tray_action("add")

    def _tray_action(self, needle: str) -> QAction | None:
        """A tray-menu action by object name (``tray-<key>``), submenus included."""
        menu = getattr(getattr(self.primary, "tray", None), "menu", None)
        if not isinstance(menu, QMenu):
            return None
        pending = [menu]
        while pending:
            for action in pending.pop().actions():
                if needle in action.objectName():
                    return action
                sub = action.menu()
                if isinstance(sub, QMenu):
                    pending.append(sub)
        return None

    def _open_new_window(
        self, action: QAction | None, what: str, prepare: Callable[[QWidget], None] | None
    ) -> None:
        """Trigger ``action``; reply with the window that appears (a dialog may exec())."""
        if action is None:
            say(f"skip no action opens {what} in this build")
            return
        before = {id(w) for w in visible_windows()}
        QTimer.singleShot(0, action.trigger)
        deadline = time.monotonic() + 5

        def look() -> None:
            fresh = [w for w in visible_windows() if id(w) not in before]
            if fresh:
                widget = max(fresh, key=lambda w: w.width() * w.height())
                if prepare is not None:
                    prepare(widget)
                QTimer.singleShot(800, lambda: say(f"ok {int(widget.winId())}"))
            elif time.monotonic() > deadline:
                say(f"skip {what} did not appear ({action.objectName() or action.text()})")
            else:
                QTimer.singleShot(100, look)

        QTimer.singleShot(100, look)

    def _fill_add(self, dialog: QWidget) -> None:
        """Example links, one of them bad, so the per-line message shows too."""
        edits = dialog.findChildren(QPlainTextEdit)
        named = [e for e in edits if e.objectName() == "links"]
        if named or edits:
            (named or edits)[0].setPlainText(ADD_DIALOG_TEXT)


def main(www: Path) -> int:
    """Serve the scene and run the real app (``desktop.cli.main``) with a Stage on it."""
    from desktop import app as app_module
    from desktop import cli
    from support.fixture_files import write_webseed_torrent
    from support.http_server import FileServer

    # Fast until a download reaches its target (a few seconds), then its own
    # rate; the Stage sees each target coming (the list refreshes every second).
    server = FileServer(www, throttle=4 * MIB).start()
    torrents = www.parent / "torrents"
    torrents.mkdir(exist_ok=True)
    links = [
        str(write_webseed_torrent(torrents, www / item.name, server.url(""), private=True))
        if item.torrent
        else server.url(item.name)
        for item in SCENE
    ]

    class StagedPrimary(app_module.PrimaryApp):
        screenshot_stage: Stage | None = None

        def build_ui(self) -> None:
            # The UI is built once aria2c was launched; the stage needs its window.
            super().build_ui()
            if self.ui is not None and self.screenshot_stage is None:
                self.screenshot_stage = Stage(self, server, links)

    # run_primary looks the name up at call time; mypy refuses any assignment to a class
    app_module.PrimaryApp = StagedPrimary  # type: ignore[misc]
    try:
        return cli.main([])  # a first start, as a new user's: the links come with "scene"
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))

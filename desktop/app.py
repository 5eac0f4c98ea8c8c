"""Bootstrap and shutdown of the primary instance.

Start-up order (see ARCHITECTURE.md): the engine first, then the doorbell,
the UI after, so aria2c starts while the rest of the app imports.

1. ``desktop.startup`` holds the instance lock, made the ``QApplication``
   (quit-on-last-window-closed off: we live in the tray) and started the
   engine: aria2c is usually launched already when this module is imported;
2. :class:`PrimaryApp` adopts that engine into its controller;
3. the command line's own links go into the journal, before anything here can fail;
4. the IPC server listens, so waiting second launches get through;
5. signal relay, controller start (after a crash, the orphan check on the
   worker, then aria2c is launched from the event loop);
6. once aria2c was launched (or its start failed, or ``UI_FALLBACK_MS``
   passed), the UI modules are imported and the tray, dialogs' owner and
   first-run window are built, from the event loop. Until then the
   controller journals and acknowledges links as always; a ``show`` and the
   controller's notices wait for the UI.

Every exit path (tray Quit, ``--quit``, SIGTERM/SIGINT/SIGHUP, session end)
goes through :meth:`PrimaryApp.request_quit` or, when the event loop is
already ending, :meth:`PrimaryApp.shutdown_now`. Both are idempotent and
keep one order: close the IPC server (the doorbell) first, stop aria2c (save,
shutdown, wait, kill), drop the ownership record, and release the instance
lock last.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication

from aria2_core import APP_NAME, __version__
from aria2_core.errors import IpcError
from aria2_core.ipc_protocol import Request
from aria2_core.paths import AppPaths

from .controller import Controller, Notice
from .engine_stop import EngineState
from .heap import freeze_start_up
from .instance_lock import InstanceLock
from .preferences import Preferences
from .quit_guard import QuitGuard
from .settings import SettingsStore, engine_settings
from .single_instance import DeferredReply, IpcServer
from .unix_signals import SignalRelay

if TYPE_CHECKING:
    from .app_ui import AppUi
    from .main_window import MainWindow
    from .startup import EarlyEngine
    from .tray import Tray

log = logging.getLogger("aria_tray.app")

# The UI is built once aria2c was launched; this long at most after start-up
# (an orphan check that waits for a dying aria2c must not keep the tray away).
UI_FALLBACK_MS = 1500
UI_RETRY_MS = 20  # while the doorbell serves launches, the UI waits this long, again
# The start-up heap is frozen this long after the UI is built (see desktop/heap.py).
FREEZE_AFTER_MS = 2000


class PrimaryApp(QObject):
    """Wires the primary instance together and owns its orderly end."""

    def __init__(
        self,
        qapp: QApplication,
        paths: AppPaths,
        lock: InstanceLock,
        early: EarlyEngine | None = None,
    ) -> None:
        """``early``: the settings store and the engine ``desktop.startup`` started
        before this module was even imported; without it, made here (tests)."""
        super().__init__()
        self._qapp = qapp
        self._paths = paths
        self._lock = lock
        self._quitting = False
        self._finished = False
        self._session_ending = False  # the OS asked (commitDataRequest): the end is near
        self.exit_code = 0
        self.guard = QuitGuard(self.request_quit, self.force_quit, self)
        if early is None:
            store = SettingsStore(paths.settings_file)
            self.controller = Controller(paths, engine_settings(store.load()), self)
        else:
            store = early.store
            self.controller = Controller(paths, early.settings, self, engine=early.engine)
        self.preferences = Preferences(store, self.controller, self)
        self.server = IpcServer(paths.server_name, self._handle_request, self)
        self.signals = SignalRelay(self)
        self.signals.received.connect(self.guard.on_signal)
        self.tray: Tray | None = None  # built by build_ui, after aria2c was launched
        self.ui: AppUi | None = None
        self._show_asked = False  # a `show` that came before the UI
        self._early_notices: list[Notice] = []
        self.controller.notice.connect(self._keep_early_notice)
        self.restart_after_quit = False
        qapp.aboutToQuit.connect(self.shutdown_now)
        qapp.commitDataRequest.connect(self._on_session_ending)
        self._session_window = session_end_receiver()

    def _on_session_ending(self, *_: object) -> None:
        """The OS session is ending (Windows: WM_QUERYENDSESSION): save now, not later.

        ``aboutToQuit`` follows (WM_ENDSESSION) and stops aria2c within its budget.
        """
        log.info("the session is ending: saving aria2's session")
        self._session_ending = True
        self.controller.save_session_now()

    def _make_window(self) -> MainWindow:
        from .main_window import MainWindow  # deferred: most sessions never open it

        return MainWindow(self.controller)

    def start(self, initial_items: list[str], request_id: str = "") -> None:
        """Journal the command line's links, open the doorbell, launch aria2c; UI later.

        The links go in under ``request_id``, the id this launch sent them under
        while it tried to forward them: a primary that journaled them but died
        before it answered left an entry with that id, and they go in once.
        """
        if initial_items:
            self.controller.submit(initial_items, source="command line", key=request_id)
        self.server.listen()
        # Queued: build_ui runs from the event loop, also when the start below
        # launches aria2c at once (no ownership record on disk).
        queued = Qt.ConnectionType.QueuedConnection
        self.controller.engine_launched.connect(self.build_ui, queued)
        self.controller.engine_state_changed.connect(self._build_ui_unless_starting, queued)
        self.controller.start()
        QTimer.singleShot(UI_FALLBACK_MS, self.build_ui)
        log.info("%s %s primary started (pid %d)", APP_NAME, __version__, os.getpid())

    @Slot(str)
    def _build_ui_unless_starting(self, state: str) -> None:
        """A start that failed (or ended otherwise) brings the UI, as a launch does."""
        if state != EngineState.STARTING:
            self.build_ui()

    @Slot()
    def build_ui(self) -> None:
        """Import the widget code and build the tray and the UI. Runs once, from the loop.

        Deferred until aria2c was launched: importing the UI modules is most
        of the start-up's CPU time, and aria2c (another process) gets going
        meanwhile.
        """
        if self.ui is not None or self._quitting:
            return
        if self.server.active_connections or self.server.has_knocking:
            # Launches are handing over links (a burst of them, say): answer
            # them first; the seconds the UI takes on a busy machine would
            # otherwise run out their reply timeout.
            QTimer.singleShot(UI_RETRY_MS, self.build_ui)
            return
        from .app_ui import AppUi  # deferred: see the module docstring
        from .tray import Tray

        self.controller.engine_launched.disconnect(self.build_ui)
        self.controller.engine_state_changed.disconnect(self._build_ui_unless_starting)
        self.tray = Tray(self.controller, self)
        self.tray.quit_requested.connect(lambda: self.request_quit("tray"))
        self.ui = AppUi(self.controller, self.preferences, self.tray, self._make_window, self)
        self.ui.quit_requested.connect(lambda: self.request_quit("window"))
        self.ui.restart_requested.connect(self.request_restart)
        self.controller.notice.disconnect(self._keep_early_notice)
        tray_available = self.tray.show()
        self.ui.start(tray_available)  # the window (first run, no tray, settings), the drop zone
        for notice in self._early_notices:
            self.tray.show_notice(notice)
        self._early_notices.clear()
        if self._show_asked:
            self.ui.show_window()
        log.info("UI ready")
        # What start-up built lives until quit: freeze it, so no GC walks it again;
        # a moment later, so the collection before it does not delay aria2c's readiness.
        QTimer.singleShot(FREEZE_AFTER_MS, freeze_start_up)

    @Slot(object)
    def _keep_early_notice(self, notice: Notice) -> None:
        self._early_notices.append(notice)

    # -- IPC --------------------------------------------------------------
    def _handle_request(self, request: Request) -> dict[str, Any] | DeferredReply:
        if request.cmd == "open":
            # Even while quitting (a request taken just before the doorbell
            # closed): the journal keeps it and the next start delivers it.
            return self._open(list(request.args.get("items", [])), request.id)
        if request.cmd == "status":
            return self.controller.status()
        if request.cmd == "quit":
            QTimer.singleShot(0, lambda: self.request_quit("--quit"))
            return {"pid": os.getpid()}
        if request.cmd == "show":
            if self.ui is None:
                self._show_asked = True  # build_ui shows it
            else:
                self.ui.show_window()
            return {"shown": True}
        raise IpcError(f"unknown command {request.cmd!r}")

    def _open(self, items: list[Any], request_id: str = "") -> DeferredReply:
        """Journal an ``open``: plain items as one entry, each link with options as its own.

        Options (a version-2 item) hold per-link headers such as the
        browser's cookies; the journal keeps them only until aria2 has them.
        The entries are written and fsync'd on the controller's journal
        worker, in order; the reply goes out (from this thread) only once
        they are on disk, so an acknowledged link is never lost and the GUI
        never waits for the disk.
        """
        plain = [item for item in items if isinstance(item, str)]
        batches: list[tuple[list[str], dict[str, Any], str]] = []
        # Keyed by the request's id (see LinkJournal.append): the plain links as the
        # launch itself would journal them if it became the primary, each other one
        # numbered, so a request sent again after a crash is added once.
        keys: list[str] = []
        if plain:
            batches.append((plain, {}, "second launch"))
            keys.append(request_id)
        for number, item in enumerate(items, start=1):
            if isinstance(item, dict):
                batches.append(([item["uri"]], dict(item["options"]), "browser"))
                keys.append(f"{request_id}-{number}" if request_id else "")
        reply = DeferredReply()

        def written(entries: list[str]) -> None:
            first = entries[0] if entries else ""
            reply.resolve({"accepted": len(items), "entry": first, "entries": entries})

        def failed(exc: BaseException) -> None:
            log.warning("could not journal an open: %s", exc, exc_info=exc)
            if not isinstance(exc, OSError):
                reply.fail(str(exc) or type(exc).__name__)
                return
            reply.fail(
                f"Could not record the links in {self._paths.home} "
                f"({exc.strerror or exc}). Nothing was added: free some disk space "
                "or fix that folder, then try again."
            )

        self.controller.submit_later(batches, written, failed, keys=keys)
        return reply

    # -- shutdown ---------------------------------------------------------
    @Slot()
    def request_restart(self) -> None:
        """Quit as usual; :func:`run_primary` starts the app again once the lock is free."""
        if not self._quitting:
            self.restart_after_quit = True
        self.request_quit("restart")

    @Slot()
    def request_quit(self, reason: str = "") -> None:
        """Begin the orderly, asynchronous shutdown. Safe to call any number of times."""
        if self._quitting:
            return
        self._quitting = True
        log.info("quitting (%s)", reason or "requested")
        self.guard.arm()
        # The doorbell closes first: a launch from now on finds no server,
        # waits for the lock and becomes the next primary, instead of being
        # refused while the user sees nothing.
        self.server.close()
        self.controller.stop(self._after_engine_stopped)

    def force_quit(self, reason: str, code: int) -> None:
        """A second signal, or the quit deadline: end aria2c's tree now, skip the RPC."""
        log.warning("quitting forcefully (%s)", reason)
        self._quitting = True
        self.exit_code = code
        self.guard.arm()
        self.controller.stop_now(save=False)
        self._after_engine_stopped()

    def _after_engine_stopped(self) -> None:
        self._close_front()
        self._qapp.exit(self.exit_code)

    def _close_front(self) -> None:
        self.server.close()
        if self.ui is not None:
            self.ui.close()
        if self.tray is not None:
            self.tray.hide()
        self.signals.close()

    @Slot()
    def shutdown_now(self) -> None:
        """Blocking, bounded shutdown for when the event loop is ending anyway."""
        if self._finished:
            return
        self._finished = True
        self._quitting = True
        started = time.monotonic()
        self.server.close()  # first, as in request_quit
        self.controller.stop_now()
        stopped = time.monotonic()
        if self._session_ending:
            # Windows ends the process soon after WM_ENDSESSION returns and takes the
            # window and the tray icon with it; tearing them down ourselves cost Wine
            # 4 s (Shell_NotifyIcon to Explorer), most of the time Windows allows.
            self.server.close()
            self.signals.close()
        else:
            self._close_front()
        log.info(
            "shutdown: engine and tasks stopped in %.2f s, front closed in %.2f s",
            stopped - started,
            time.monotonic() - stopped,
        )

    def release_lock(self) -> None:
        """Last step of every exit: only now may another instance become primary."""
        self._lock.release()


def session_end_receiver() -> QWindow | None:
    """Windows: a hidden native window of Qt's own, so the session end reaches Qt.

    Windows sends WM_QUERYENDSESSION and WM_ENDSESSION to top-level windows,
    and Qt turns them into ``commitDataRequest`` and ``aboutToQuit`` only for
    windows it created. A tray-only session has none (the main window is
    built on first use; the tray icon's message window is not a Qt window),
    so without this one the session would end with nothing saved.
    """
    if sys.platform != "win32":
        return None
    window = QWindow()
    window.create()  # the HWND exists, never shown
    return window

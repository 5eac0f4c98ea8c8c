"""An in-process Aria Tray for integration tests: settings, controller, real aria2c.

:class:`AppWorld` builds what ``PrimaryApp`` builds, minus the instance
lock and the IPC server: an app home (short path: AF_UNIX), its settings
file, a :class:`Controller` whose engine is a real aria2c, and on demand
the main window, the tray and the dialogs wired as the app wires them.
``close()`` stops every engine it started (the orderly stop, then the
blocking one as a safety net) and removes the home.

``probe()`` is an RPC client of our own, built from the private conf file
the way an outside tool would, so assertions about aria2's state never
share the controller's worker connection.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aria2_core.paths import AppPaths
from aria2_core.rpc import Aria2Client

# Hermetic BitTorrent: no DHT, no LPD, no PEX traffic leaves the machine.
HERMETIC_OPTIONS = {
    "enable-dht": "false",
    "enable-dht6": "false",
    "bt-enable-lpd": "false",
    "enable-peer-exchange": "false",
    "file-allocation": "none",
}
WAIT_MS = 30_000


def in_thread(fn: Callable[[], Any]) -> Future[Any]:
    """Run a blocking client in a thread of its own while the test drives the Qt loop."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(fn)
    pool.shutdown(wait=False)
    return future


def conf_value(conf_file: Path, key: str) -> str:
    for line in conf_file.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and name == key:
            return value
    raise KeyError(key)


class AppWorld:
    """One app home and the controllers (and UI) started on it."""

    def __init__(self, qtbot: Any, download_dir: Path) -> None:
        from desktop.settings import AppSettings, SettingsStore

        self.qtbot = qtbot
        self.home = Path(tempfile.mkdtemp(prefix="at-", dir="/tmp" if os.name == "posix" else None))
        self.paths = AppPaths.for_home(self.home)
        self.paths.ensure()
        self.download_dir = download_dir
        download_dir.mkdir(parents=True, exist_ok=True)
        self.store = SettingsStore(self.paths.settings_file)
        if not self.paths.settings_file.exists():
            first = AppSettings(
                download_dir=str(download_dir), extra_options=dict(HERMETIC_OPTIONS)
            )
            self.store.save(first)
        self.controllers: list[Any] = []
        self._closers: list[Callable[[], None]] = []

    def controller(self, visible: bool = True, start: bool = True) -> Any:
        """A controller from the settings file (env overrides on top), engine ready."""
        from desktop.controller import Controller
        from desktop.settings import engine_settings

        settings = engine_settings(self.store.load())
        c = Controller(self.paths, settings)
        self.controllers.append(c)
        if start:
            with self.qtbot.waitSignal(c.engine.ready, timeout=WAIT_MS):
                c.start()
            c.set_window_visible(visible)
        return c

    def primary(self) -> Any:
        """A ``PrimaryApp`` on this home holding its instance lock (not started yet).

        Stopped the way ``aboutToQuit`` stops it, and unlocked, when the world closes.
        """
        from PySide6.QtWidgets import QApplication

        from desktop.app import PrimaryApp
        from desktop.instance_lock import InstanceLock

        lock = InstanceLock.for_paths(self.paths)
        assert lock.try_acquire()
        qapp = QApplication.instance()
        assert isinstance(qapp, QApplication)
        app = PrimaryApp(qapp, self.paths, lock)

        def close() -> None:
            qapp.aboutToQuit.disconnect(app.shutdown_now)
            app.shutdown_now()
            app.release_lock()

        self.on_close(close)
        return app

    def preferences(self, controller: Any) -> Any:
        from desktop.preferences import Preferences

        return Preferences(self.store, controller)

    def probe(self, controller: Any) -> Aria2Client:
        """Our own RPC client for ``controller``'s aria2c (port and secret from its conf)."""
        secret = conf_value(self.paths.conf_file, "rpc-secret")
        client = Aria2Client(int(controller.engine.port), secret, timeout=5.0)
        self._closers.append(client.close)
        return client

    def stop(self, controller: Any) -> None:
        """The orderly stop the app uses: save the session, end aria2c, wait."""
        stopped: list[bool] = []
        controller.stop(lambda: stopped.append(True))
        self.qtbot.waitUntil(lambda: bool(stopped), timeout=WAIT_MS)
        controller.stop_now()

    def on_close(self, closer: Callable[[], None]) -> None:
        self._closers.append(closer)

    def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:  # teardown goes on whatever one step did
                pass
        for controller in self.controllers:
            controller.stop_now()
        shutil.rmtree(self.home, ignore_errors=True)

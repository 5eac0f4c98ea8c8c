"""The primary's start-up: aria2c first, the rest of the app while it starts.

``desktop.cli`` calls :func:`run_primary` once this process holds the instance
lock. The order is the critical path of issue 11 (exec → aria2c listening):

1. logging, the Windows kill-on-close job (before any child), the fd limit;
2. ``QApplication`` and the translators;
3. the settings, and the engine: when no ownership record is on disk (a clean
   stop came last, so there is no orphan to look for) the start is announced
   and aria2c launched right here (``Engine.start``); after a crash the
   orphan check runs on a worker and aria2c follows from the event loop;
4. only then ``desktop.app`` is imported (the controller, the link intake,
   the doorbell, the preferences: a third of the start-up's imports) and
   :class:`~desktop.app.PrimaryApp` adopts the engine. It journals the
   command line's links, opens the doorbell, and builds the UI later
   (ARCHITECTURE.md, "Start-up order").

This module imports only what steps 1-3 need.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from aria2_core import APP_NAME, __version__
from aria2_core.config import EngineSettings
from aria2_core.errors import AriaTrayError
from aria2_core.paths import AppPaths

from .engine import Engine
from .heap import collect_on_this_thread_only
from .i18n import install_translators, language_choice
from .logging_setup import setup_logging
from .settings import SettingsStore, engine_settings
from .tasks import TaskRunner
from .win_job import contain_app

if TYPE_CHECKING:
    from .instance_lock import InstanceLock

log = logging.getLogger("aria_tray.app")


@dataclass(frozen=True)
class EarlyEngine:
    """What start-up made before the app: the settings store, what it said, the started engine."""

    store: SettingsStore
    settings: EngineSettings
    engine: Engine


def start_engine_early(paths: AppPaths) -> EarlyEngine:
    """Load the settings and start the engine, before the rest of the app is imported.

    The engine has no parent yet: the controller adopts it and its worker.
    """
    store = SettingsStore(paths.settings_file)
    settings = engine_settings(store.load())
    engine = Engine(paths, settings, TaskRunner())
    engine.start()
    return EarlyEngine(store, settings, engine)


def raise_fd_limit() -> None:
    """Lift the soft open-files limit to the hard one (Unix).

    Desktops often start programs with a soft limit of 1,024. The primary
    holds a socket per waiting launch, and at EMFILE ``QLocalServer`` would
    close itself; the connection cap in ``IpcServer`` is the other half.
    """
    if sys.platform == "win32":  # handles are not limited this way
        return
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        log.warning("could not raise the open-files limit from %d to %d: %s", soft, target, exc)
        return
    log.debug("open-files limit raised from %d to %d", soft, target)


def run_primary(paths: AppPaths, lock: InstanceLock, items: list[str], request_id: str = "") -> int:
    """Run the primary instance until it quits; returns the exit code.

    ``request_id`` is the id this launch sent ``items`` under while it tried to
    forward them: they are journaled under it (see :meth:`PrimaryApp.start`).
    """
    setup_logging(paths)
    contain_app()  # Windows: before any child, so aria2c is born in our kill-on-close job
    raise_fd_limit()
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("aria-tray")
    qapp.setApplicationDisplayName(APP_NAME)
    qapp.setApplicationVersion(__version__)
    qapp.setQuitOnLastWindowClosed(False)
    collect_on_this_thread_only(qapp)  # before the first worker: see desktop/heap.py
    install_translators(qapp, language_choice(paths))  # before any widget calls tr()
    early = start_engine_early(paths)
    from .app import PrimaryApp  # the rest of the app, imported while aria2c starts

    primary = PrimaryApp(qapp, paths, lock, early)
    try:
        primary.start(items, request_id)
    except AriaTrayError as exc:
        log.error("start-up failed: %s", exc)
        primary.shutdown_now()
        primary.release_lock()
        if sys.stderr is not None:
            print(f"aria-tray: {exc}", file=sys.stderr)
        return 1
    code = qapp.exec()
    primary.shutdown_now()
    primary.release_lock()
    primary.guard.done()
    if primary.restart_after_quit:
        _start_again()
    log.info("exited with code %d", code)
    return code


def _start_again() -> None:
    """The last step of a restart: a new primary, started once our lock is released."""
    from .integration import start_detached

    try:
        start_detached()
        log.info("restarting: a new Aria Tray was started")
    except (AriaTrayError, OSError) as exc:
        log.error("could not start Aria Tray again: %s", exc)

"""The settings half of the controller: change a running aria2c, or restart it.

A plain mixin of ``Controller`` (like ``TaskControls`` it holds one idea in
its own file). New :class:`EngineSettings` are diffed against the ones
aria2c runs with (:func:`aria2_core.live_options.plan_change`):

* what aria2 can change live goes out in one ``aria2.changeGlobalOption``
  on the RPC worker; the engine keeps the new settings, so the conf file
  written at the next start, after a crash too, agrees;
* what it cannot (another binary, an extra option it reads only at start,
  an option removed) restarts aria2c: first the chosen binary parses the
  new options in a dry run (``aria2_core.option_dryrun``; a value it
  refuses is reported and nothing changes), then ``engine.stop`` saves the
  session and ends it the orderly way, and ``engine.start`` runs with the
  new conf file. The UI asks the user first (:meth:`restart_reasons` tells
  it why).

Settings applied while aria2c is starting are sent as soon as it is ready.

It also reads which options a binary knows (``aria2c --help=#all``), on a
worker of its own so a slow or odd binary never delays RPC.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from aria2_core.binary import find_aria2c
from aria2_core.config import EngineSettings
from aria2_core.errors import ConfigError
from aria2_core.helper_runs import HelperRuns
from aria2_core.live_options import RestartReason, effective_options, plan_change
from aria2_core.option_catalog import default_cache_file, known_options
from aria2_core.option_dryrun import OptionRejection, check_options

from .frozen_env import child_environment
from .tasks import TaskRunner

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from aria2_core.paths import AppPaths

    from .engine import Engine

log = logging.getLogger("aria_tray.controller")

# on_done gets the problems ([] when all went well), on the GUI thread.
ApplyCallback = Callable[[list[str]], None]


class EngineSettingsControl:
    """Live option changes, engine restarts, the global speed limit, the option list."""

    if TYPE_CHECKING:
        engine: Engine
        tasks: TaskRunner
        _paths: AppPaths
        _settings: EngineSettings
        _stopping: bool
        engine_settings_changed: SignalInstance

        def wake_polling(self) -> None: ...

    _pending_live: dict[str, str] | None = None
    _catalog_tasks: TaskRunner | None = None
    _helper_runs: HelperRuns | None = None

    # -- reading ------------------------------------------------------------
    def engine_settings(self) -> EngineSettings:
        """A copy of the settings aria2c runs with (or will, at its next start)."""
        return replace(self._settings, extra_options=dict(self._settings.extra_options))

    def restart_reasons(self, new: EngineSettings) -> list[RestartReason]:
        """Why applying ``new`` would restart aria2c; empty when it can go live."""
        try:
            return plan_change(self._settings, new).restart
        except ConfigError:  # apply_engine_settings reports it
            return []

    # -- applying -----------------------------------------------------------
    def apply_engine_settings(
        self, new: EngineSettings, on_done: ApplyCallback | None = None
    ) -> bool:
        """Apply ``new``: live where aria2 allows it, else by restarting aria2c.

        Returns True when this restarts aria2c. ``on_done`` runs on the GUI
        thread once aria2 took the live options (or the restart began).
        """
        old = self._settings
        try:
            change = plan_change(old, new)
        except ConfigError as exc:  # a value that cannot be written safely: keep the old
            _later(on_done, [str(exc)])
            return False
        from .engine import EngineState

        engine_failed = self.engine.state == EngineState.FAILED
        if change.needs_restart or (engine_failed and (change.live or change.restart)):
            # A failed engine is started again with the new settings (they may
            # be its fix), checked by the binary first like any restart.
            log.info("settings need an aria2c (re)start: %s", change.restart or "engine failed")

            def restart() -> None:
                self._use_settings(new)
                self._restart_engine()

            self._check_then(new, restart, on_done)
            return True
        if not change.live:
            self._use_settings(new)
            _later(on_done, [])
            return False
        client = self.engine.client
        if client is None:
            # Starting or restarting: no aria2 to ask, and the conf being
            # written may predate ``new``; once the binary accepts the values
            # they are sent when it is ready (and are in every later conf).
            live_now = dict(change.live)

            def keep() -> None:
                self._use_settings(new)
                self._pending_live = {**(self._pending_live or {}), **live_now}

            self._check_then(new, keep, on_done)
            return False
        self._use_settings(new)
        live = dict(change.live)
        log.info("changing aria2 options live: %s", sorted(live))

        def failed(exc: BaseException) -> None:
            # aria2 takes all of a changeGlobalOption or none of it: keep the old.
            log.warning("changeGlobalOption failed: %s", exc)
            if self._settings is new:
                self._use_settings(old)
            if on_done is not None:
                on_done([getattr(exc, "message", "") or str(exc)])

        def done(_result: object) -> None:
            self.wake_polling()
            if on_done is not None:
                on_done([])

        self.tasks.run(lambda: client.change_global_option(live), on_done=done, on_error=failed)
        return False

    def _check_then(
        self, new: EngineSettings, then: Callable[[], None], on_done: ApplyCallback | None
    ) -> None:
        """Run ``then`` only if ``new``'s aria2c accepts every value (a dry run).

        A refused value would leave no engine at the next start (aria2c
        exits 28), so it is reported instead, and nothing changes.
        """
        scratch = self._paths.engine_dir
        runs = self._helpers()

        def work() -> OptionRejection | None:
            binary = find_aria2c(new.binary_override)
            env = child_environment(dict(os.environ))
            return check_options(binary, effective_options(new), scratch, env, runs)

        def checked(rejection: OptionRejection | None) -> None:
            if rejection is not None:
                log.warning("aria2c refuses the new settings: %s", rejection.message)
                if on_done is not None:  # aria2's own words; the UI words them for people
                    on_done([rejection.message])
                return
            then()
            if on_done is not None:
                on_done([])

        def failed(exc: BaseException) -> None:
            if on_done is not None:
                on_done([str(exc)])

        self._option_worker().run(work, on_done=checked, on_error=failed)

    def _option_worker(self) -> TaskRunner:
        """A worker of its own for running the binary: a slow one never delays RPC."""
        if self._catalog_tasks is None:
            self._catalog_tasks = TaskRunner(self)  # type: ignore[arg-type]
        return self._catalog_tasks

    def _helpers(self) -> HelperRuns:
        """The binary runs (``--help``, dry runs) of this controller, killed at shutdown."""
        if self._helper_runs is None:
            self._helper_runs = HelperRuns()
        return self._helper_runs

    def _use_settings(self, settings: EngineSettings) -> None:
        self._settings = settings
        self.engine.update_settings(settings)
        self.engine_settings_changed.emit(self.engine_settings())

    def _restart_engine(self) -> None:
        """Stop aria2c the orderly way (session saved), then start it with the new conf."""
        from .engine import EngineState

        self._pending_live = None  # the new conf file carries everything
        engine = self.engine
        if engine.state in (EngineState.STOPPED, EngineState.FAILED):
            engine.restart()
            return

        def start_again() -> None:
            if not self._stopping:  # the app may have begun quitting meanwhile
                engine.restart()

        engine.stop(start_again)

    def _send_pending_live(self) -> None:
        """Once ready: options applied while aria2c was (re)starting."""
        pending, self._pending_live = self._pending_live, None
        client = self.engine.client
        if not pending or client is None:
            return
        self.tasks.run(
            lambda: client.change_global_option(pending),
            on_error=lambda exc: log.warning("changeGlobalOption failed: %s", exc),
        )

    # -- what a binary knows -------------------------------------------------
    def fetch_known_options(
        self,
        binary_override: str | None,
        on_done: Callable[[frozenset[str]], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """The option names of the aria2c that ``binary_override`` selects, off the GUI thread.

        Cached per binary (path, size, mtime) in the app home; the first
        read of a binary runs ``aria2c --help=#all`` once.
        """
        cache = default_cache_file(self._paths.engine_dir)
        runs = self._helpers()

        def work() -> frozenset[str]:
            binary = find_aria2c(binary_override)
            return known_options(binary, cache, child_environment(dict(os.environ)), runs)

        self._option_worker().run(work, on_done=on_done, on_error=on_error)

    def _shutdown_settings_control(self) -> None:
        """The last moment: kill a running ``--help`` or dry run, so its worker ends now.

        Waiting for it would add its whole timeout (10 s) to a blocking stop.
        """
        # Made here if need be, so that what is asked later is refused, not run.
        self._helpers().cancel_all()
        self._option_worker().shutdown()


def _later(callback: ApplyCallback | None, problems: list[str]) -> None:
    """Call back on the next turn of the event loop, never inside the caller."""
    if callback is not None:
        QTimer.singleShot(0, lambda: callback(problems))

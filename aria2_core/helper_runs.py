"""Short runs of a binary (``aria2c --help=#all``, a dry run) that a quit can cut short.

Such a run blocks its worker thread until the binary answers or its timeout
(10 s) passes. A blocking stop at the very end waits for its workers, so a
hung or slow binary used to add that whole timeout to the quit. Each run
goes through a :class:`HelperRuns` owned by whoever starts them;
:meth:`HelperRuns.cancel_all` kills what is running (and refuses new runs),
so the worker returns at once and the stop stays within its budget.

Killing is by process tree through psutil, as in :mod:`process_tree`: a
wrapper script that does not ``exec`` would otherwise keep the output pipes
open and the worker waiting. It works the same on Windows.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping, Sequence

import psutil


class HelperCancelled(subprocess.SubprocessError):
    """The run was killed, or refused, because its owner is shutting down."""


class HelperRuns:
    """Runs binaries like ``subprocess.run(capture_output=True)``, killable all at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._cancelled = False

    def run(
        self,
        args: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``args`` to the end (stdin empty, output captured), bounded by ``timeout``.

        Raises ``subprocess.TimeoutExpired`` (the tree killed), ``OSError``
        when it cannot start, and :class:`HelperCancelled` when
        :meth:`cancel_all` ended it or had already been called.
        """
        with self._lock:  # so that cancel_all never misses a run being started
            if self._cancelled:
                raise HelperCancelled(f"not running {args[0]}: shutting down")
            proc = subprocess.Popen(
                list(args),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                # Windows: no console window flashes up for a console program.
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
            self._running.add(proc)
        try:
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_tree(proc)
                proc.communicate()
                raise
        finally:
            with self._lock:
                self._running.discard(proc)
        if self._cancelled:
            raise HelperCancelled(f"{args[0]} was stopped: shutting down")
        return subprocess.CompletedProcess(list(args), proc.returncode, out, err)

    def cancel_all(self) -> None:
        """Kill every run under way and refuse new ones; returns without waiting."""
        with self._lock:
            self._cancelled = True
            running = list(self._running)
        for proc in running:
            _kill_tree(proc)


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL (Windows: TerminateProcess) ``proc`` and everything it started."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass
    try:
        proc.kill()
    except OSError:
        pass

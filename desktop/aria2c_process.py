"""How one aria2c process is put together: program, arguments, environment.

Kept apart from ``desktop.engine`` (which decides *when* aria2c runs) so the
platform details of *how* it runs sit in one place:

* Linux: started through ``setpriv --pdeathsig TERM`` when ``setpriv``
  exists, so aria2c gets SIGTERM (and saves its session) the moment we die.
  PDEATHSIG follows the parent *thread*, so the engine starts it from the
  GUI thread.
* Frozen builds: the environment the bootloader changed is put back
  (``desktop.frozen_env``).
* Windows: aria2c is a console program, yet no console window opens.
  QProcess (qprocess_win.cpp, startProcess) passes CREATE_NO_WINDOW
  whenever GetConsoleWindow() is NULL, i.e. whenever we have no console:
  the windowed AriaTray.exe, or pythonw. Started from a console (python
  main.py in cmd), aria2c shares that console instead of opening its own.
  Either way its output reaches us through the pipes QProcess passes with
  STARTF_USESTDHANDLES.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
from collections.abc import Iterable
from pathlib import Path

import psutil
from PySide6.QtCore import QObject, QProcess, QProcessEnvironment

from aria2_core.config import LaunchSpec
from aria2_core.process_tree import descendants, signal_all

from .frozen_env import child_environment


def wake_event_loop(port: int) -> None:
    """Connect to aria2c's RPC port and hang up, so a pending SIGTERM is seen now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            pass
    except OSError:
        pass  # already gone: that is what we wanted


def clean_environment() -> QProcessEnvironment:
    """The environment for aria2c, minus what a frozen bootloader injected.

    See ``desktop.frozen_env``: the user's ``LD_LIBRARY_PATH`` comes back
    (from ``LD_LIBRARY_PATH_ORIG``), the bootloader's ``_PYI_*`` variables
    and our own ``ARIA_TRAY_HOME`` go.
    """
    system = QProcessEnvironment.systemEnvironment()
    names = system.keys()  # a QProcessEnvironment is not iterable itself
    cleaned = child_environment({name: system.value(name) for name in names})
    env = QProcessEnvironment()
    for name, value in cleaned.items():
        env.insert(name, value)
    return env


def wrap_for_parent_death(spec: LaunchSpec) -> tuple[str, list[str]]:
    """On Linux, run aria2c via ``setpriv --pdeathsig TERM`` when it exists."""
    if sys.platform.startswith("linux") and os.environ.get("ARIA_TRAY_NO_PDEATHSIG") != "1":
        setpriv = shutil.which("setpriv")
        if setpriv:
            return setpriv, ["--pdeathsig", "TERM", "--", spec.program, *spec.arguments]
    return spec.program, list(spec.arguments)


def new_aria2c_process(spec: LaunchSpec, working_dir: Path, parent: QObject) -> QProcess:
    """A configured, not yet started ``QProcess`` for ``spec``."""
    program, arguments = wrap_for_parent_death(spec)
    process = QProcess(parent)
    process.setProgram(program)
    process.setArguments(arguments)
    process.setWorkingDirectory(str(working_dir))
    process.setProcessEnvironment(clean_environment())
    process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
    return process


def explain_exit(output: Iterable[str]) -> str:
    """aria2c's own words for why it stopped, without its usage text."""
    lines = list(output)
    telling = [
        line
        for line in lines
        if "errorCode" in line or "Parse error" in line or line.lstrip().startswith("->")
    ]
    return " ".join(telling[-3:]) if telling else (lines[-1] if lines else "")


def describe_exit(exit_code: int, crashed: bool) -> str:
    """How aria2c ended, for the log and the error shown: "exited with code 1", …

    For a crash on Unix QProcess reports the signal number as the code, so
    "code 9" becomes "was killed by signal 9 (SIGKILL)".
    """
    if not crashed:
        return f"exited with code {exit_code}"
    if sys.platform == "win32":
        return f"crashed (code {exit_code & 0xFFFFFFFF:#x})"
    try:
        name = signal.Signals(exit_code).name
    except ValueError:
        return f"was killed by signal {exit_code}"
    return f"was killed by signal {exit_code} ({name})"


class ProcessTree:
    """What lives below the process we started, for when it is a wrapper.

    ``listener`` is the process that answered readiness (the real aria2c when
    a wrapper script did not ``exec`` it). :meth:`signal` reaches every
    descendant as well as the listener; :meth:`leftovers` names those still
    alive after the started process ended. ``psutil.Process`` objects are
    kept, so a reused pid never counts (``is_running`` checks creation time).
    """

    def __init__(self, root: int | None = None) -> None:
        self.root = root
        self._listener: psutil.Process | None = None
        self._signalled: dict[int, psutil.Process] = {}
        self._noted: dict[int, psutil.Process] = {}  # the tree below the root at readiness

    @property
    def listener(self) -> int | None:
        return self._listener.pid if self._listener is not None else None

    def found_ready(self, listener: int | None, below: list[psutil.Process]) -> None:
        """Readiness found ``listener`` and, below the root, ``below`` (read off the GUI thread).

        The whole tree is noted, not just the listener: a wrapper killed on its own
        orphans its children, which are then no longer found below it (POSIX
        reparents them; Windows keeps a parent pid that no longer exists), and
        what was noted here is still ended. It also covers a listener that cannot
        be told from the wrapper (under Wine, socket owners are unknown).
        """
        self._listener = None
        if listener is not None:
            try:
                self._listener = psutil.Process(listener)
            except psutil.Error:
                pass
        self._noted.update({p.pid: p for p in below})

    def _members(self) -> list[psutil.Process]:
        found = dict(self._noted)
        found.update({p.pid: p for p in descendants(self.root)} if self.root else {})
        if self._listener is not None and self._listener.pid != self.root:
            found.setdefault(self._listener.pid, self._listener)
        return list(found.values())

    def signal(self, kill: bool) -> None:
        """SIGTERM or SIGKILL every process below the root (not the root itself)."""
        members = self._members()
        self._signalled.update({p.pid: p for p in members})
        signal_all(members, kill)

    def leftovers(self) -> list[psutil.Process]:
        """Live processes of this tree other than the root: to be ended before a new start."""
        candidates = {**self._signalled, **{p.pid: p for p in self._members()}}
        candidates.pop(self.root or -1, None)
        live = []
        for proc in candidates.values():
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    live.append(proc)
            except psutil.Error:
                continue
        return live

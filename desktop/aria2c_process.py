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
import socket
import sys
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment

from aria2_core.config import LaunchSpec

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

"""Small real programs and hard kills that mean the same thing on Linux and Windows.

Tests need a process that exits at once (``true``), an executable that does
something scripted (a fake aria2c that fails the way the real one does), and
a kill the victim cannot see coming (SIGKILL), and a freeze (SIGSTOP). Each
exists on Windows too: the test's own interpreter running ``pass``; a ``.bat``
file (CreateProcess runs it through ``cmd.exe``, as Windows does for any batch
file); ``TerminateProcess``, which psutil's ``kill()`` is there; and
``NtSuspendProcess``, which psutil's ``suspend()`` is there (Wine has it too).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil

WINDOWS = sys.platform == "win32"

#: A command that starts a real process which exits 0 at once.
TRUE_COMMAND = [sys.executable, "-c", "pass"]


def script_program(folder: Path, name: str, code: str) -> Path:
    """An executable named ``name`` (``name.bat`` on Windows) that runs Python ``code``.

    Its arguments reach the code as ``sys.argv[1:]``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{name}.py"
    source.write_text(code, encoding="utf-8")
    if WINDOWS:
        program = folder / f"{name}.bat"
        line = subprocess.list2cmdline([sys.executable, str(source)])
        program.write_text(f"@{line} %*\r\n@exit /b %ERRORLEVEL%\r\n", encoding="utf-8")
    else:
        program = folder / name
        program.write_text(f"#!{sys.executable}\n{code}", encoding="utf-8")
        program.chmod(0o755)
    return program


def kill_hard(pid: int) -> None:
    """End ``pid`` with no chance to clean up: SIGKILL on POSIX, TerminateProcess on Windows."""
    psutil.Process(pid).kill()


def freeze(pid: int) -> None:
    """Stop every thread of ``pid`` (SIGSTOP; NtSuspendProcess on Windows): a hung process."""
    psutil.Process(pid).suspend()


def thaw(pid: int) -> None:
    """Undo :func:`freeze` (SIGCONT; NtResumeProcess on Windows)."""
    psutil.Process(pid).resume()


#: The exit status :func:`kill_hard` leaves: -SIGKILL on POSIX; on Windows the code psutil
#: hands ``TerminateProcess`` (SIGTERM's number, 15).
KILLED_STATUS = 15 if WINDOWS else -9

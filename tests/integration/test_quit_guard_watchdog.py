"""The watchdog's last resort must not need anything the stuck thread may hold.

The GUI thread can hang while it holds a logging handler's lock (writing to a
stderr pipe nobody reads, a log file on a stalled network share). The
watchdog used to log its reason first: it then waited on that same lock and
never reached ``os._exit``, so the app outlived its last resort.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from support.app_process import REPO

STUCK_WITH_THE_LOG_LOCK = textwrap.dedent(
    """
    import logging, sys, threading, time
    from desktop import quit_guard

    handler = logging.StreamHandler(sys.stderr)
    logging.getLogger().addHandler(handler)
    quit_guard.HARD_EXIT_S = 0.2
    handler.acquire()  # this thread hangs while it holds the handler's lock
    threading.Timer(quit_guard.HARD_EXIT_S, quit_guard._hard_exit).start()
    time.sleep(120)
    """
)


def test_the_watchdog_exits_even_when_the_stuck_thread_holds_the_log_lock() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK_WITH_THE_LOG_LOCK],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        code = proc.wait(30)  # a bound on a hang, not a timing check: it exits or it doesn't
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise AssertionError("the watchdog never ended the process") from None
    assert code == 1, proc.stderr.read() if proc.stderr else ""
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert "shutdown did not finish" in stderr  # said, without the logging lock

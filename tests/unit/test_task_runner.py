"""A TaskRunner's late results never reach a runner that is shut down or deleted.

The ownership record's worker is shut down without waiting (``wait=False``)
and its runner is deleted with the engine; the job still running then ends
later, on the worker thread. Emitting its result on the deleted runner used
to raise in the worker ("Signal source has been deleted", logged by
concurrent.futures) and, had the deletion run at that very moment, would
have used freed memory.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QObject

from desktop.tasks import TaskRunner


def test_a_result_after_shutdown_and_deletion_is_dropped_quietly(
    qtbot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = QObject()
    runner = TaskRunner(owner, name="test-late")
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    delivered: list[object] = []

    def job() -> str:
        started.set()
        release.wait(10)
        return "late"

    assert runner.run(job, delivered.append, delivered.append)
    assert started.wait(10)
    runner.shutdown(wait=False)
    shiboken6.delete(owner)  # the engine and its runner are gone; the job is not
    assert not shiboken6.isValid(runner)
    pool_threads = [t for t in threading.enumerate() if t.name.startswith("test-late")]
    release.set()
    for thread in pool_threads:
        thread.join(10)
        assert not thread.is_alive()
    finished.set()
    qtbot.wait(50)  # a queued delivery, had there been one, would run now

    assert delivered == []
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == [], [r.getMessage() for r in failures]


def test_the_running_call_of_a_waiting_shutdown_is_still_delivered(qtbot: Any) -> None:
    runner = TaskRunner(name="test-wait")
    delivered: list[object] = []
    release = threading.Event()
    assert runner.run(lambda: release.wait(10) and "done", delivered.append)
    threading.Timer(0.05, release.set).start()
    runner.shutdown(wait=True)
    qtbot.waitUntil(lambda: delivered == ["done"], timeout=5000)
    assert runner.run(lambda: None) is False

"""Guard against a PySide6 build that corrupts CPython's reference counts.

PySide6 6.12.0 on CPython 3.11 dropped a reference to ``None`` on every
void-returning call and to ``True`` on every signal emit; a long-running
tray app aborted with "Fatal Python error: none_dealloc". pyproject.toml
pins around it; this test fails if a future upgrade brings it back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal


class _Emitter(QObject):
    changed = Signal(int)


def test_void_calls_and_emits_keep_refcounts() -> None:
    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    assert app is not None
    timer = QTimer()
    emitter = _Emitter()
    received: list[int] = []
    emitter.changed.connect(received.append)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(300):
        timer.stop()
        emitter.changed.emit(i)
    # Small drifts from unrelated objects are tolerated; the bug was 1 per call.
    assert abs(sys.getrefcount(None) - none_before) < 50
    assert abs(sys.getrefcount(True) - true_before) < 50
    assert len(received) == 300

"""Cyclic garbage is collected on the GUI thread, never on a worker.

CPython's collector runs on whichever thread allocates when a threshold is
crossed. If the garbage holds a Qt object, its C++ destructor then runs on
that worker: Qt forbids it, and with PySide6 it can deadlock. The destructor
holds the object's signal lock while it waits for the GIL; the GUI thread
holds the GIL while it waits for that lock to connect a signal. A CI run
hung exactly so, in a worker's collection of a widget a test had dropped.

So the app (``desktop.startup``), and this test process (``tests/conftest.py``),
turn automatic collection off and collect from a GUI-thread timer
(``desktop.heap.collect_on_this_thread_only``).
"""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from desktop import heap


class _Cycle:
    """A reference cycle that owns a widget, as a dropped dialog's wrapper can."""

    def __init__(self) -> None:
        self.me = self
        self.widget = QWidget()
        self.label = QLabel("garbage", self.widget)


def _decode(into: list[object]) -> None:
    """Build container objects as a worker decoding a big JSON reply does.

    They stay alive (handed back), so the allocations pass generation 0's
    threshold: a collection is due, and the collector runs where it is run.
    """
    into.extend({"n": n} for n in range(20 * gc.get_threshold()[0]))


def test_a_cycle_holding_widgets_is_collected_on_the_gui_thread(qtbot: Any) -> None:
    assert not gc.isenabled(), "automatic collection is on: any thread may collect"
    gui = threading.get_ident()
    collected_on: list[int] = []
    cycle = _Cycle()
    weakref.finalize(cycle, lambda: collected_on.append(threading.get_ident()))
    del cycle

    rows: list[object] = []
    worker = threading.Thread(target=_decode, args=(rows,), name="decode")
    worker.start()
    worker.join()
    assert collected_on == [], "a worker collected the cycle"

    qtbot.waitUntil(lambda: bool(collected_on), timeout=heap.GUI_COLLECT_IDLE_MS * 3)
    assert collected_on == [gui]
    assert rows  # alive until here


def test_a_paused_block_does_not_turn_automatic_collection_back_on(qapp: Any) -> None:
    with heap.collections_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()

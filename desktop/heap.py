"""The Python heap: what start-up puts on it, and freezing it afterwards.

**No source scan.** PySide6 hooks every import that follows its own
(``shibokensupport.feature.feature_imported``) and reads the *source* of
each new module with ``inspect.getsource``, to see whether it says
"PySide6" (the opt-in ``from __feature__ import snake_case`` switches per
module). The lines stay in ``linecache``: in a tray-only session about 250
files, 10 MB of str objects that freeing does not give back (they sit in
pymalloc arenas among live objects), and half a second of start-up on a
busy machine. Aria Tray uses no ``__feature__``, so
:func:`skip_pyside_source_scan` marks every module "ignore" (what the hook
decides for a module that does not mention PySide6) without reading it.

**Frozen after start-up.** Everything built while starting (modules, Qt
wrappers, the controller, the tray) lives until quit. CPython's cyclic
garbage collector still walks all of it at every full collection, and it
runs on whichever thread allocates at that moment: during a 1,000-link
drop that is the RPC worker, holding the GIL for the whole walk, so the
GUI thread stood still for tens of ms (issue 11). ``gc.freeze()`` moves
what exists now into a permanent generation that collections skip;
reference counting still frees those objects as usual, only cycles among
them are never collected (start-up leaves none: :func:`freeze_start_up`).

**No collection while a refresh builds its rows.** A refresh of thousands
of downloads decodes MBs of JSON into dicts and builds a row from each, on
the RPC worker: tens of thousands of objects alive at once, so full
collections came one after another and walked all of them, 5–25 ms each
with the GIL held (issue 11, item 4). None of those objects form cycles;
:func:`collections_paused` turns the collector off while such a block runs
and back on after, when the temporaries are gone and only the rows remain.

**Collected on the GUI thread only.** The collector runs on whichever
thread allocates when a threshold is crossed. Garbage that holds a Qt
object (a dropped dialog's wrapper in a reference cycle) then has its C++
destructor run on that worker, which Qt forbids and which can deadlock
with PySide6: the destructor holds the object's signal lock while it waits
for the GIL, the GUI thread holds the GIL while it waits for that lock (a
test run hung so). :func:`collect_on_this_thread_only` turns automatic
collection off for good and collects from a timer on the GUI thread, by
the same thresholds the automatic collector uses, never inside a
:func:`collections_paused` block.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt is imported only once skip_pyside_source_scan() has run
    from PySide6.QtCore import QObject, QTimer

log = logging.getLogger("aria_tray.heap")

# How often the GUI thread looks whether a collection is due: every half
# second while there is garbage to collect, backing off to every 4 s at rest
# (a look costs about 0.2 ms of CPU: at 2 Hz, 0.03 % of an idle app).
GUI_COLLECT_MS = 500
GUI_COLLECT_IDLE_MS = 4000

_pause_lock = threading.Lock()
_pausers = 0  # blocks inside collections_paused(), on any thread
_was_enabled = True
_gui_thread_collects = False  # set for good by collect_on_this_thread_only()


def skip_pyside_source_scan() -> bool:
    """Import PySide6 and stop its import hook from reading every module's source.

    Call before the first module that imports Qt. Returns False, and
    changes nothing, when this PySide6 has no such hook (another version);
    ``tests/unit/test_heap.py`` notices.
    """
    import PySide6  # noqa: F401 - creates PySide6.support.feature

    feature = sys.modules.get("PySide6.support.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = lambda module: False  # type: ignore[attr-defined]
    return True


def freeze_start_up() -> None:
    """Freeze what start-up built. Call once the app is built.

    No full collection first: it found nothing to free in real starts (0
    unreachable objects, three of three) and held the GUI thread 18-33 ms, a
    hitch a user could meet 2 s after start (the GUI-stall bench caught it:
    54 ms). A cycle that were garbage at this instant would stay; what
    start-up leaves is what the collector found, which was none.
    """
    t0 = time.perf_counter()
    gc.freeze()
    elapsed_ms = (time.perf_counter() - t0) * 1000
    log.info("start-up heap frozen: %d objects, %.1f ms", gc.get_freeze_count(), elapsed_ms)


@contextmanager
def collections_paused() -> Iterator[None]:
    """No cyclic garbage collection (on any thread) while the block runs.

    For work that builds many objects without cycles. Nested and concurrent
    blocks share one pause; the collector comes back on (if it was on) when
    the last one ends, even on an exception.
    """
    global _pausers, _was_enabled
    with _pause_lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pausers -= 1
            if _pausers == 0 and _was_enabled and not _gui_thread_collects:
                gc.enable()


def collect_on_this_thread_only(parent: QObject) -> QTimer:
    """Turn automatic collection off; collect from a timer on this (the GUI) thread.

    Call once, on the GUI thread, before any worker thread starts. The timer
    is a child of ``parent``; collections stop with it.
    """
    from PySide6.QtCore import QTimer

    global _gui_thread_collects
    with _pause_lock:
        _gui_thread_collects = True
        gc.disable()
    timer = QTimer(parent)
    timer.setObjectName("gui-thread-gc")
    timer.setSingleShot(True)

    def look() -> None:
        due = collect_due() is not None
        timer.start(GUI_COLLECT_MS if due else min(timer.interval() * 2, GUI_COLLECT_IDLE_MS))

    timer.timeout.connect(look)
    timer.start(GUI_COLLECT_MS)
    return timer


def collect_due() -> int | None:
    """Collect the generations the automatic collector would have by now.

    Generation 0 once its allocations pass the first threshold, an older one
    once enough younger collections have passed its own; nothing inside a
    :func:`collections_paused` block. Returns the objects found unreachable,
    or None when no collection was due (or one was, but is paused).
    """
    if _pausers:
        return None
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if counts[0] <= thresholds[0]:
        return None
    # CPython's own choice: the oldest generation whose count passed its threshold.
    generation = max(g for g in range(3) if counts[g] > thresholds[g])
    return gc.collect(generation)

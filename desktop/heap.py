"""The Python heap after start-up: frozen, so no collection scans it again.

Everything built while starting (modules, Qt wrappers, the controller, the
tray) lives until quit. CPython's cyclic garbage collector still walks all
of it at every full collection, and it runs on whichever thread allocates
at that moment: during a 1,000-link drop that is the RPC worker, holding
the GIL for the whole walk, so the GUI thread stood still for tens of ms
(issue 11). ``gc.freeze()`` moves what exists now into a permanent
generation that collections skip; reference counting still frees those
objects as usual, only cycles among them are never collected, which is why
the garbage already there is collected first.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger("aria_tray.heap")


def freeze_start_up() -> None:
    """Collect once, then freeze what is left. Call once the app is built."""
    t0 = time.perf_counter()
    gc.collect()
    gc.freeze()
    log.info(
        "start-up heap frozen: %d objects, %.0f ms",
        gc.get_freeze_count(),
        (time.perf_counter() - t0) * 1000,
    )

"""Is the aria2c we started ready: listening on 127.0.0.1:port and answering RPC?

One probe, run on a worker by the engine (``desktop.engine``), which paces
them and acts on the answer. Qt-free: it asks the OS and aria2c only.

The listener may be anywhere in the tree of the process we started (a
wrapper script may not exec aria2c, ``aria2_core.process_tree``). aria2c
binding only ``::1`` means someone else holds ``127.0.0.1:port``: a conflict,
and the engine retries on another port.
"""

from __future__ import annotations

import psutil

from .ports import LOOPBACK, accepts_connections
from .process_tree import descendants, tree_listener
from .rpc import Aria2Client

READY, WAIT, CONFLICT = "ready", "wait", "conflict"


def probe_readiness(pid: int, client: Aria2Client) -> tuple[str, int | None, list[psutil.Process]]:
    """(READY/WAIT/CONFLICT, the listening pid if known, the tree once ready)."""
    port = client.port
    # Nothing on 127.0.0.1:port yet: aria2c is still binding. Only then is the
    # socket table worth reading (slow on a busy host, and under Wine it holds
    # the GIL long enough to starve the GUI thread at a 40 ms pace).
    if not accepts_connections(port):
        return WAIT, None, []
    listener, addresses = tree_listener(pid, port)
    if addresses and LOOPBACK not in addresses:
        # The IPv4 rows are read before the IPv6 ones, so aria2c binding both in
        # between looks like "::1 only": look again before calling it a conflict.
        listener, addresses = tree_listener(pid, port)
    if LOOPBACK not in addresses:
        # Bound on ::1 only: someone else holds 127.0.0.1:port.
        return (CONFLICT if addresses else WAIT), listener, []
    client.call("aria2.getVersion", timeout=1.0)
    return READY, listener, descendants(pid)

"""The tray icon's four looks, and which one the app is in.

Drawn from ``resources/icons/state-*.svg`` (the app icon's shape, one
colour and sign per state), loaded once each. The state follows the engine
and aria2's global counters, which the controller already polls while
anything is active, so the icon costs no RPC of its own.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache

from PySide6.QtGui import QIcon

from aria2_core.models import GlobalStat

from .resources import icon


class TrayState(StrEnum):
    IDLE = "idle"  # nothing to do
    DOWNLOADING = "downloading"  # something is active
    PAUSED = "paused"  # downloads wait (paused or queued), none active
    ERROR = "error"  # the engine is down or failed


def tray_state(engine_state: str, stats: GlobalStat) -> TrayState:
    """The look for an engine state (``EngineState`` value) and the global counters."""
    if engine_state in ("failed", "restarting"):
        return TrayState.ERROR
    if engine_state != "ready":
        return TrayState.IDLE
    if stats.num_active > 0:
        return TrayState.DOWNLOADING
    if stats.num_waiting > 0:
        return TrayState.PAUSED
    return TrayState.IDLE


@cache
def state_icon(state: TrayState) -> QIcon:
    """The icon for ``state`` (the app icon if its SVG is missing)."""
    drawn = icon(f"state-{state.value}")
    return drawn if not drawn.isNull() else icon()

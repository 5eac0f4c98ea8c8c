"""Human-readable sizes, speeds and durations: the one place that picks units.

Decimal SI units (1 kB = 1,000 B, 1 MB = 1,000,000 B), as GNOME, macOS and
browsers show them, so the tray reads ``↓ 1.2 MB/s ↑ 0 B/s`` and "MB" means
what it says. Everything the user sees (window, tray, details, speed-limit
presets) formats through here, so the units never disagree on screen.
"""

from __future__ import annotations

_UNITS = ("B", "kB", "MB", "GB", "TB")
STEP = 1000


def format_size(num_bytes: int | float) -> str:
    value = float(max(num_bytes, 0))
    for unit in _UNITS:
        # 999.96 kB would round to "1000.0 kB": show it as "1.0 MB" instead.
        if round(value, 1) < STEP or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= STEP
    raise AssertionError("unreachable")


def format_speed(bytes_per_second: int | float) -> str:
    return f"{format_size(bytes_per_second)}/s"


def format_duration(seconds: int | float | None) -> str:
    """``1h 02m``, ``3m 07s``, ``12s``; ``∞`` when unknown."""
    if seconds is None or seconds < 0:
        return "∞"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"

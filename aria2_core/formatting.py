"""Human-readable sizes, speeds and durations (binary units, as aria2 uses)."""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_size(num_bytes: int | float) -> str:
    value = float(max(num_bytes, 0))
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
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

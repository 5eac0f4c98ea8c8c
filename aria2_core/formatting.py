"""Human-readable sizes, speeds and durations: the one place that picks units.

Decimal SI units (1 kB = 1,000 B, 1 MB = 1,000,000 B), as GNOME, macOS and
browsers show them, so the tray reads ``↓ 1.2 MB/s ↑ 0 B/s`` and "MB" means
what it says. Everything the user sees (window, tray, details, speed-limit
presets) formats through here, so the units never disagree on screen.

Durations have words in them ("2m 39s" is "2分39秒" in Chinese), and this
package has no Qt and so no ``tr()``. :func:`format_duration` therefore
takes its wording as :class:`DurationUnits` templates: the desktop passes
translated ones, while the arithmetic (which parts to show, the zero padding)
stays here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

_UNITS = ("B", "kB", "MB", "GB", "TB")
STEP = 1000


@dataclass(frozen=True)
class DurationUnits:
    """The wording of a duration, as ``str.format`` templates.

    Each template gets its numbers as already padded strings (``{minutes}``
    is ``"02"`` after an hour), so a translation only moves words around and
    cannot get the padding wrong.
    """

    hours: str = "{hours}h {minutes}m"  # 1h 02m
    minutes: str = "{minutes}m {seconds}s"  # 3m 07s
    seconds: str = "{seconds}s"  # 12s
    unknown: str = "∞"  # no estimate (nothing arrives)


ENGLISH_UNITS = DurationUnits()


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


def format_duration(seconds: int | float | None, units: DurationUnits = ENGLISH_UNITS) -> str:
    """``1h 02m``, ``3m 07s``, ``12s``; ``∞`` when unknown (in ``units``' words).

    Two parts at most: an ETA of "1h 02m 17s" is more precise than it is true.
    """
    if seconds is None or seconds < 0:
        return units.unknown
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return units.hours.format(hours=hours, minutes=f"{minutes:02d}")
    if minutes:
        return units.minutes.format(minutes=minutes, seconds=f"{secs:02d}")
    return units.seconds.format(seconds=secs)

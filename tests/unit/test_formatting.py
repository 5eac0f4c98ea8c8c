"""Sizes, speeds and durations for people; durations in any language's words."""

from __future__ import annotations

import pytest

from aria2_core.formatting import DurationUnits, format_duration, format_size, format_speed


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (12, "12s"), (187, "3m 07s"), (159, "2m 39s"), (3720, "1h 02m"),
     (359_999, "99h 59m"), (12.9, "12s"), (None, "∞"), (-1, "∞")],
)  # fmt: skip
def test_durations_in_english_by_default(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_durations_take_their_words_from_the_units() -> None:
    """The desktop passes translated templates; padding stays here, in one place."""
    units = DurationUnits(
        hours="{hours}小时{minutes}分",
        minutes="{minutes}分{seconds}秒",
        seconds="{seconds}秒",
        unknown="未知",
    )
    assert format_duration(3720, units) == "1小时02分"
    assert format_duration(187, units) == "3分07秒"
    assert format_duration(5, units) == "5秒"
    assert format_duration(None, units) == "未知"


def test_a_translation_may_reorder_the_parts() -> None:
    units = DurationUnits(hours="{minutes} min past {hours} h")
    assert format_duration(3720, units) == "02 min past 1 h"


def test_sizes_and_speeds_use_decimal_units() -> None:
    assert format_size(999) == "999 B"
    assert format_size(999_960) == "1.0 MB"  # not "1000.0 kB"
    assert format_speed(1_200_000) == "1.2 MB/s"

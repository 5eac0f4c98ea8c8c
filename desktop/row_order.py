"""Sort keys for the download list that stay put when nothing moved.

The default order of the list is: active downloads, then the queue in
aria2's order, then failed, then completed (newest first). A naive key
(the position in aria2's queue) changes for *every* queued row when the
head of the queue starts, which would make a 10,000-row queue repaint and
re-sort completely each time a download begins. So:

* active and other live rows keep the number they got when first seen;
* history rows use their finish time;
* queued rows keep their previous key as long as it is still in order, and
  only rows that moved get a new key between their neighbours.

Moving one row up or down therefore changes one key; a download starting,
finishing or being added changes none of the others.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

SPACING = 1 << 20  # room for ~20 successive inserts at one spot before a renumbering
LIMIT = 1 << 40  # renumber long before keys reach into the next status group


def stable_queue_keys(queue: Sequence[str], old: dict[str, int]) -> dict[str, int]:
    """Integer keys, strictly increasing along ``queue``, reusing ``old`` where possible."""
    return queue_keys_and_moves(queue, old)[0]


def queue_keys_and_moves(
    queue: Sequence[str], old: dict[str, int]
) -> tuple[dict[str, int], set[str]]:
    """The keys (see :func:`stable_queue_keys`) and the gids whose old key changed.

    The usual case (nothing moved) is one linear pass and no moves. When
    rows moved, the longest run of old keys still in order is kept and only
    the others get new keys, spread between their kept neighbours. When
    there is no room, or keys have drifted far, the queue is renumbered.
    """
    count = len(queue)
    keys: list[int | None] = [None] * count
    last: int | None = None
    dropped = False
    for position, gid in enumerate(queue):
        key = old.get(gid)
        if key is None:
            continue
        if last is None or key > last:
            keys[position] = key
            last = key
        else:
            dropped = True
    if dropped:  # something moved: keep the longest run in order, re-key the rest
        keys = _longest_increasing(queue, old)
    start = 0
    while start < count:
        if keys[start] is not None:
            start += 1
            continue
        end = start
        while end < count and keys[end] is None:
            end += 1
        if not _fill(keys, start, end):
            return _renumbered(queue, old)
        start = end
    result = [k for k in keys if k is not None]
    if result and max(abs(result[0]), abs(result[-1])) > LIMIT:
        return _renumbered(queue, old)
    new = dict(zip(queue, result, strict=True))
    moved = {g for g in queue if g in old and old[g] != new[g]} if dropped else set()
    return new, moved


def _longest_increasing(queue: Sequence[str], old: dict[str, int]) -> list[int | None]:
    """Old keys on a longest increasing subsequence; None elsewhere (patience sorting)."""
    positions = [p for p, gid in enumerate(queue) if gid in old]
    values = [old[queue[p]] for p in positions]
    tails: list[int] = []  # values of the smallest tail of each length
    tail_at: list[int] = []  # index into ``values`` of that tail
    parent = [-1] * len(values)
    for i, value in enumerate(values):
        length = bisect.bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_at.append(i)
        else:
            tails[length] = value
            tail_at[length] = i
        parent[i] = tail_at[length - 1] if length else -1
    keys: list[int | None] = [None] * len(queue)
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keys[positions[i]] = values[i]
        i = parent[i]
    return keys


def _fill(keys: list[int | None], start: int, end: int) -> bool:
    """Give ``keys[start:end]`` (all None) increasing values between their neighbours."""
    low = keys[start - 1] if start > 0 else None
    high = keys[end] if end < len(keys) else None
    gap = end - start
    if low is None and high is None:
        low = 0
    if high is None:
        assert low is not None
        for offset in range(gap):
            keys[start + offset] = low + (offset + 1) * SPACING
        return True
    if low is None:
        for offset in range(gap):
            keys[start + offset] = high - (gap - offset) * SPACING
        return True
    if high - low <= gap:
        return False
    for offset in range(gap):
        keys[start + offset] = low + (high - low) * (offset + 1) // (gap + 1)
    return True


def _renumbered(queue: Sequence[str], old: dict[str, int]) -> tuple[dict[str, int], set[str]]:
    new = {gid: (position + 1) * SPACING for position, gid in enumerate(queue)}
    return new, {g for g in queue if g in old and old[g] != new[g]}

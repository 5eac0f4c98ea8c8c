"""Queue sort keys change only for rows that really moved."""

from __future__ import annotations

import itertools
import random

from desktop.row_order import SPACING, stable_queue_keys


def changed(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {gid for gid, key in after.items() if before.get(gid) != key}


def increasing(queue: list[str], keys: dict[str, int]) -> bool:
    values = [keys[g] for g in queue]
    return all(a < b for a, b in itertools.pairwise(values))


def test_first_numbering_is_spaced() -> None:
    assert stable_queue_keys(["a", "b"], {}) == {"a": SPACING, "b": 2 * SPACING}


def test_head_leaving_and_tail_arriving_change_no_other_key() -> None:
    queue = [f"g{i}" for i in range(1000)]
    keys = stable_queue_keys(queue, {})
    after = stable_queue_keys([*queue[1:], "new"], keys)
    assert changed(keys, after) == {"new"}


def test_moving_one_row_up_changes_one_key() -> None:
    queue = list("abcdef")
    keys = stable_queue_keys(queue, {})
    moved = list("abdcef")  # d moved up past c
    after = stable_queue_keys(moved, keys)
    assert len(changed(keys, after)) == 1
    assert increasing(moved, after)


def test_moving_to_the_front_and_back() -> None:
    queue = list("abcdef")
    keys = stable_queue_keys(queue, {})
    front = list("fabcde")
    after = stable_queue_keys(front, keys)
    assert increasing(front, after) and changed(keys, after) == {"f"}


def test_random_reorders_always_stay_increasing() -> None:
    rng = random.Random(7)
    queue = [f"g{i}" for i in range(50)]
    keys = stable_queue_keys(queue, {})
    for _ in range(500):
        i, j = rng.randrange(50), rng.randrange(50)
        queue.insert(j, queue.pop(i))
        keys = stable_queue_keys(queue, keys)
        assert increasing(queue, keys)


def test_no_room_renumbers() -> None:
    keys = {"a": 1, "b": 2}
    after = stable_queue_keys(["a", "x", "b"], keys)
    assert increasing(["a", "x", "b"], after)

"""What start-up leaves on the Python heap (``desktop/heap.py``), in a fresh interpreter.

Each check runs the primary's own imports in a new Python process, since
this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

IMPORTS = """
import json, linecache, sys
from desktop.heap import skip_pyside_source_scan
skipped = skip_pyside_source_scan() if sys.argv[1] == "skip" else None
import desktop.app, desktop.app_ui, desktop.tray
print(json.dumps({"skipped": skipped, "cached": len(linecache.cache)}))
"""


def run_imports(mode: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", IMPORTS, mode],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_primarys_imports_leave_no_source_lines_on_the_heap() -> None:
    """PySide6's import hook read every module's source into linecache (~10 MB at rest)."""
    skipped = run_imports("skip")
    assert skipped["skipped"] is True, "this PySide6 has no source scan to skip: drop the patch"
    assert skipped["cached"] < 10, skipped
    # Without the call the same imports fill the cache: the patch is what keeps it empty.
    assert run_imports("plain")["cached"] > 100


@pytest.fixture
def automatic_gc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The collector as a process without a GUI-thread collector has it (conftest installs one)."""
    import gc

    from desktop import heap

    was = gc.isenabled()
    monkeypatch.setattr(heap, "_gui_thread_collects", False)
    gc.enable()
    try:
        yield
    finally:
        (gc.enable if was else gc.disable)()


def test_collections_paused_nests_across_threads_and_restores_the_collector(
    automatic_gc: None,
) -> None:
    """A refresh's rows are built with no GC; the collector is back on after, whatever happens."""
    import gc
    import threading

    from desktop.heap import collections_paused

    assert gc.isenabled()
    inside = threading.Event()
    leave = threading.Event()

    def other() -> None:
        with collections_paused():
            inside.set()
            leave.wait(10)

    worker = threading.Thread(target=other)
    with pytest.raises(RuntimeError), collections_paused():
        assert not gc.isenabled()
        worker.start()
        inside.wait(10)
        with collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
        raise RuntimeError("a failed refresh")
    assert not gc.isenabled(), "the other thread's block still runs"
    leave.set()
    worker.join(10)
    assert gc.isenabled()

    gc.disable()  # someone else's choice is kept
    try:
        with collections_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()  # the fixture puts back what the session had

"""Where a timed-out Windows test run was stuck, in a few lines at the end of its output.

A stuck test prints every thread's stack (pytest-timeout, then possibly the faulthandler
backstop of tests/conftest.py), and CI keeps only the tail of a run's output: the stack
that matters, the main thread's innermost frames, and the test's name scroll out of
it. tools/wine/test.sh runs this (Linux Python) on the run's log after a timeout:

    python3 tools/wine/timeout_summary.py LOG          the summary
    python3 tools/wine/timeout_summary.py --check LOG  exit 0 if a test timed out, else 1

The summary is the last progress line (the test file; each dot is a finished test) and,
for each thread of each dump, its innermost frames and the test function's frame.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FRAMES = 6
PROGRESS = re.compile(r"^tests[\\/]\S+\.py ")
# pytest-timeout: "+++ Timeout +++", then "~~~ Stack of NAME (ID) ~~~" with the frames
# oldest first, as traceback.format_stack writes them (two lines a frame).
TIMEOUT_PLUGIN = re.compile(r"\+{5,} Timeout \+{5,}$")
PLUGIN_THREAD = re.compile(r"^~+ Stack of .* ~+$")
# faulthandler: "Timeout (0:11:00)!", then "Thread 0x... (most recent call first):" with
# one line a frame, newest first. Either marker may end the progress line it interrupts
# ("tests\\e2e\\test_x.py ..Timeout (0:11:00)!"), so they are searched for, not matched.
TEST_FRAME = re.compile(r"(,)? in test_\w+$")
TIMEOUT_BACKSTOP = re.compile(r"Timeout \(\d+:\d\d:\d\d(\.\d+)?\)!$")
BACKSTOP_THREAD = re.compile(r"^(Thread 0x[0-9a-fA-F]+|Current thread 0x[0-9a-fA-F]+) ")


def is_marker(line: str) -> bool:
    return bool(TIMEOUT_PLUGIN.search(line) or TIMEOUT_BACKSTOP.search(line))


def unmarked(line: str) -> str:
    """The line without a timeout marker that was printed onto its end."""
    return TIMEOUT_BACKSTOP.sub("", TIMEOUT_PLUGIN.sub("", line)).rstrip()


def first_timeout(lines: list[str]) -> int | None:
    """The index of the first line that says a test timed out, if any does."""
    return next(
        (i for i, line in enumerate(lines) if is_marker(line)),
        None,
    )


def summary(lines: list[str]) -> list[str]:
    """The progress line before the first timeout and each dumped thread's newest frames."""
    out: list[str] = []
    first = first_timeout(lines)
    if first is None:
        return ["no timeout in the log"]
    progress = [line for line in lines[: first + 1] if PROGRESS.match(line)]
    stuck = unmarked(progress[-1]) if progress else "(before the first test file)"
    out.append(f"stuck in: {stuck}")
    thread: list[str] = []
    style = ""

    def flush() -> None:
        if not thread:
            return
        header, body = thread[0], thread[1:]
        frames = [b for b in body if b.startswith('  File "')]
        if style == "plugin":  # oldest first, two lines a frame
            frames.reverse()
        out.append(header)
        out.extend(frames[:FRAMES])
        test = [f for f in frames[FRAMES:] if TEST_FRAME.search(f)]
        if test:  # stuck deeper than the frames shown: which test it was
            out.extend(["  ...", test[0]])
        thread.clear()

    for line in lines[first:]:
        if is_marker(line):
            flush()
            was, style = style, "plugin" if TIMEOUT_PLUGIN.search(line) else "backstop"
            if style != was or style == "backstop":  # the plugin closes its dump with one more
                marker = TIMEOUT_PLUGIN.search(line) or TIMEOUT_BACKSTOP.search(line)
                out.append(marker.group(0) if marker else line)
        elif PLUGIN_THREAD.match(line) or BACKSTOP_THREAD.match(line):
            flush()
            thread.append(line)
        elif thread:
            thread.append(line)
    flush()
    return out


def main(argv: list[str]) -> int:
    check = argv[1:2] == ["--check"]
    try:
        text = Path(argv[-1]).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:  # the run has not begun its log yet
        return 1
    lines = [line.rstrip("\r") for line in text.splitlines()]
    if check:
        return 0 if first_timeout(lines) is not None else 1
    print("\n".join(summary(lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

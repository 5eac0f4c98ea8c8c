"""tools/wine/timeout_summary.py: a stuck Windows run's tail names the test and its stack.

The samples are the two formats as they reach the log: pytest-timeout's own dump
(traceback.format_stack, oldest frame first) and faulthandler's (newest first), as the
backstop in tests/conftest.py writes it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "wine" / "timeout_summary.py"

PLUGIN_DUMP = [
    "tests\\e2e\\test_quit_e2e.py ..",
    "tests\\e2e\\test_stuck_e2e.py .." + "",
    "+" * 30 + " Timeout " + "+" * 30,
    "~" * 20 + " Captured stdout " + "~" * 20,
    '  File "noise.py", line 1, in captured_output_not_a_frame',
    "~" * 20 + " Stack of MainThread (1234) " + "~" * 20,
    '  File "Y:\\Lib\\runpy.py", line 198, in _run_module_as_main',
    "    return _run_code(code, main_globals, None,",
]
PLUGIN_DUMP += ['  File "P:\\tests\\e2e\\test_stuck_e2e.py", line 9, in test_stuck']
PLUGIN_DUMP += [
    f'  File "P:\\tests\\e2e\\test_stuck_e2e.py", line {n}, in f{n}' for n in range(10, 19)
]
PLUGIN_DUMP += ["+" * 30 + " Timeout " + "+" * 30]

BACKSTOP_DUMP = [
    "tests\\e2e\\test_later_e2e.py .Timeout (0:11:00)!",  # faulthandler writes onto the line
    "Thread 0x000000d8 (most recent call first):",
    '  File "Y:\\Lib\\threading.py", line 320 in wait',
    "",
    "Thread 0x00000024 (most recent call first):",
]
BACKSTOP_DUMP += [f'  File "P:\\desktop\\x.py", line {n} in g{n}' for n in range(20, 29)]


def write_log(tmp_path: Path, lines: list[str]) -> Path:
    log = tmp_path / "pytest-windows.log"
    log.write_text("\r\n".join(["platform win32", "tests\\unit\\test_a.py ....", *lines]) + "\r\n")
    return log


def run(tmp_path: Path, lines: list[str]) -> list[str]:
    log = write_log(tmp_path, lines)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(log)], capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


def check(tmp_path: Path, lines: list[str]) -> int:
    log = write_log(tmp_path, lines)
    return subprocess.run([sys.executable, str(SCRIPT), "--check", str(log)]).returncode


def test_the_stuck_test_file_and_the_innermost_frames_of_each_thread(tmp_path: Path) -> None:
    out = run(tmp_path, PLUGIN_DUMP + BACKSTOP_DUMP)
    assert out[0] == "stuck in: tests\\e2e\\test_stuck_e2e.py .."
    assert out.count("+" * 30 + " Timeout " + "+" * 30) == 1
    main = out.index("~" * 20 + " Stack of MainThread (1234) " + "~" * 20)
    # pytest-timeout lists frames oldest first: the summary keeps the six newest, newest first
    assert out[main + 1 : main + 7] == [
        f'  File "P:\\tests\\e2e\\test_stuck_e2e.py", line {n}, in f{n}' for n in range(18, 12, -1)
    ]
    # the test's own frame is deeper than those: it follows them
    assert out[main + 7 : main + 9] == [
        "  ...",
        '  File "P:\\tests\\e2e\\test_stuck_e2e.py", line 9, in test_stuck',
    ]
    assert not any("captured_output_not_a_frame" in line for line in out)
    assert "Timeout (0:11:00)!" in out
    worker = out.index("Thread 0x00000024 (most recent call first):")
    # faulthandler lists them newest first already
    assert out[worker + 1 : worker + 7] == [
        f'  File "P:\\desktop\\x.py", line {n} in g{n}' for n in range(20, 26)
    ]
    assert out[out.index("Thread 0x000000d8 (most recent call first):") + 1].endswith("in wait")


def test_a_log_without_a_timeout_says_so(tmp_path: Path) -> None:
    assert run(tmp_path, ["tests\\e2e\\test_quit_e2e.py ...."]) == ["no timeout in the log"]


def test_check_tells_a_timed_out_run_from_a_running_one(tmp_path: Path) -> None:
    assert check(tmp_path, ["tests\\e2e\\test_quit_e2e.py .."]) == 1
    assert check(tmp_path, PLUGIN_DUMP[:3]) == 0
    assert check(tmp_path, ["tests\\e2e\\test_quit_e2e.py ..", *BACKSTOP_DUMP[:2]]) == 0
    assert check(tmp_path, ["tests\\e2e\\test_x.py .." + PLUGIN_DUMP[2]]) == 0
    # a test's own output that merely mentions a timeout is not one
    assert check(tmp_path, ["Timeout (waiting for aria2c)", "++ Timeout ++"]) == 1


def test_a_marker_printed_onto_a_progress_line_names_that_file(tmp_path: Path) -> None:
    out = run(tmp_path, BACKSTOP_DUMP)
    assert out[:2] == ["stuck in: tests\\e2e\\test_later_e2e.py .", "Timeout (0:11:00)!"]

r"""Our files while another process holds them open: Windows' sharing rules.

On Windows a file opened without ``FILE_SHARE_DELETE`` (as Python's ``open``
and most programs open it: an antivirus scanning a new file, a backup tool, an
indexer, the user's editor, a test reading the journal) cannot be renamed
over, and a file in the middle of being replaced cannot be opened. Both
answer ``PermissionError``, for as long as the other process holds on, which
is usually milliseconds. So a write that replaces a file must wait a moment
rather than fail, and a read must wait rather than take "unreadable" for
"empty": a history read as empty is saved back as empty.

Real processes and real files. On POSIX the same checks pass trivially (a
rename never cares who has the file open); they are here for Windows, where
``make test-windows`` runs them under Wine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aria2_core.atomic_file import read_bytes, write_atomic
from aria2_core.history import HistoryRecord, HistoryStore
from aria2_core.journal import LinkJournal
from support.aria2_daemon import Aria2Daemon

HOLD_S = 0.4  # how long the other process keeps the file open: a slow scan


def _holder(path: Path, *, times: int, hold_s: float) -> subprocess.Popen[str]:
    """Another process that opens ``path`` for reading, as a scanner would, ``times`` times."""
    code = textwrap.dedent(
        f"""
        import sys, time
        path, times, hold = {str(path)!r}, {times}, {hold_s}
        print("READY", flush=True)
        for _ in range(times):
            while True:
                try:
                    handle = open(path, "rb")
                    break
                except OSError:
                    time.sleep(0.001)
            time.sleep(hold)
            handle.close()
            time.sleep(0.005)
        print("DONE", flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY", proc.stderr.read() if proc.stderr else ""
    return proc


def _replacer(path: Path, payloads: list[bytes], seconds: float) -> subprocess.Popen[str]:
    """Another process that replaces ``path`` through write_atomic for ``seconds``."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from aria2_core.atomic_file import write_atomic
        path, payloads, until = Path({str(path)!r}), {payloads!r}, time.monotonic() + {seconds}
        print("READY", flush=True)
        n = 0
        while time.monotonic() < until:
            write_atomic(path, payloads[n % len(payloads)])
            n += 1
        print("WROTE", n, flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY", proc.stderr.read() if proc.stderr else ""
    return proc


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def _finished(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, f"the other process failed: {err.strip()[-2000:]}"
    return out


def test_a_replace_waits_for_a_reader_that_holds_the_file(
    tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    target = tmp_path / "journal.jsonl"
    journal = LinkJournal(target)
    journal.append(["http://127.0.0.1:9/kept.bin"], source="test")
    done = journal.append(["http://127.0.0.1:9/done.bin"], source="test")
    journal.mark_done(done)

    procs.append(_holder(target, times=1, hold_s=HOLD_S))
    time.sleep(HOLD_S / 4)  # it has the file open now
    assert journal.compact() == 1  # a rename over a file held open: must wait, not fail
    _finished(procs[-1])
    assert [e.items for e in LinkJournal(target).pending()] == [("http://127.0.0.1:9/kept.bin",)]


def test_reads_during_another_process_replacing_the_file_see_a_whole_file(
    tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    target = tmp_path / "settings.json"
    payloads = [json.dumps({"n": n, "pad": "x" * (n * 1000)}).encode() for n in range(1, 4)]
    write_atomic(target, payloads[0])
    procs.append(_replacer(target, payloads, seconds=3.0))
    reads = 0
    while procs[-1].poll() is None:
        assert read_bytes(target) in payloads
        reads += 1
    out = _finished(procs[-1])
    replaced = int(out.split()[-1])
    print(f"{reads} reads during {replaced} replaces")
    assert reads > 0 and replaced > 0


def test_history_read_while_a_scanner_holds_it_is_not_taken_for_empty(
    tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    target = tmp_path / "history.json"
    store = HistoryStore(target)
    record = HistoryRecord(gid="2089b05ecca3d829", name="kept.iso", status="complete")
    store.add(record)

    procs.append(_replacer(target, [target.read_bytes()], seconds=2.0))
    loads = 0
    while procs[-1].poll() is None:
        assert HistoryStore(target).get(record.gid) == record
        loads += 1
    _finished(procs[-1])
    assert loads > 0
    assert HistoryStore(target).get(record.gid) == record


def test_a_session_save_waits_for_a_reader_that_holds_the_session_file(
    aria2_daemon: Aria2Daemon, procs: list[subprocess.Popen[str]]
) -> None:
    """aria2c's own save fails while the file is held, and its periodic save never retries.

    It marks the session saved before it writes, so one failed write leaves
    the file stale (a finished download's cookie header in it, a new download
    missing) until the queue changes again. The app's explicit saves must
    therefore get through: ``Aria2Client.save_session`` waits the holder out.
    """
    client = aria2_daemon.client
    client.add_uri(["http://127.0.0.1:9/held-while-saving.bin"], {"pause": "true"})
    procs.append(_holder(aria2_daemon.session_file, times=1, hold_s=HOLD_S))
    time.sleep(HOLD_S / 4)  # it has the file open now
    assert client.save_session() == "OK"
    _finished(procs[-1])
    assert "held-while-saving.bin" in aria2_daemon.session_file.read_text(encoding="utf-8")

"""A full disk must never tear an acknowledged journal line (issue 8, item 4).

The app home is a real, tiny tmpfs, filled up while the app runs: mounted
here (as root) on Linux; on Windows under Wine, the drive that
``tools/wine/test.sh`` mounts (as root) and names in ``ARIA_TRAY_TEST_TINY_FS``.
A link whose journal line no longer fits used to be written in part
(``os.write`` returns short on a full disk), fsync'd and acknowledged, and
then skipped as a torn line: lost. Now the line is written
whole or not at all, and the launch is refused with a clear message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import psutil
import pytest
from e2e_support import counts, reached_aria2

from support.app_process import AppHome, short_home, wait_until
from support.http_server import PayloadFactory
from support.programs import freeze, kill_hard

pytestmark = pytest.mark.e2e
TINY_FS_ENV = "ARIA_TRAY_TEST_TINY_FS"


def _dispose(home: AppHome) -> None:
    """Room for the app to save at quit, then the usual teardown (quit, kill, remove)."""
    (home.home / "filler").unlink(missing_ok=True)
    home.dispose()


@pytest.fixture
def tiny_home(tmp_path: Path) -> Iterator[AppHome]:
    """An app home on its own 1 MiB tmpfs; needs root (CI and this machine run as root)."""
    downloads = tmp_path / "dl"
    downloads.mkdir()
    if sys.platform == "win32":
        drive = os.environ.get(TINY_FS_ENV)
        if not drive:
            pytest.skip(
                f"no tiny filesystem: {TINY_FS_ENV} names one (tools/wine/test.sh, as root)"
            )
        home = AppHome(Path(tempfile.mkdtemp(prefix="at-full-", dir=drive)), downloads)
        try:
            yield home
        finally:
            _dispose(home)
        return
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    mount_point = short_home("at-full-")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    home = AppHome(mount_point, downloads)
    try:
        yield home
    finally:
        _dispose(home)
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        shutil.rmtree(mount_point, ignore_errors=True)


def _fill(folder: Path) -> None:
    """Write a file until the filesystem is full."""
    with open(folder / "filler", "wb", buffering=0) as out:
        chunk = b"\0" * 65536
        while True:
            try:
                if out.write(chunk) == 0:
                    return
            except OSError:
                chunk = chunk[: len(chunk) // 2]
                if not chunk:
                    return


def test_full_disk_refuses_the_link_instead_of_tearing_it(
    tiny_home: AppHome, payload_factory: PayloadFactory
) -> None:
    home = tiny_home
    # stderr to /dev/null: a full disk makes the log handler complain there,
    # and an unread pipe must not block the app.
    primary = home.launch(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status = home.wait_ready(30)
    assert status["app_pid"] == primary.pid
    aria_pid = status["aria2c_pid"]
    first = payload_factory("before-full.bin", 2048).url
    # A long but valid URL: its journal line cannot fit in what is left.
    long_url = payload_factory("when-full.bin", 2048).url + "?pad=" + "x" * 8000
    after = payload_factory("after-full.bin", 2048).url

    freeze(aria_pid)  # keep entries pending in the journal
    try:
        assert home.run(first).returncode == 0
        _fill(home.home)
        result = home.run(long_url)
    finally:
        (home.home / "filler").unlink()
        # The app dies before handing anything over: only the journal remains.
        primary.kill()
        primary.wait(10)
        with suppress(psutil.NoSuchProcess):  # Windows: gone with the app's Job Object
            kill_hard(aria_pid)
    wait_until(lambda: counts(home) == (0, 0), 20)
    primary = home.launch(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    home.wait_ready(30)

    if result.returncode == 0:
        # Acknowledged: then it must arrive like any other link.
        try:
            wait_until(lambda: long_url in reached_aria2(home), 30)
        except TimeoutError:
            raise AssertionError("an acknowledged link was lost to a full disk") from None
    else:
        # The C library's words on Linux, Windows' own (ERROR_DISK_FULL) on Windows.
        assert "No space left" in result.stderr or "not enough space" in result.stderr, (
            result.stderr
        )
        assert "Nothing was added" in result.stderr, result.stderr

    assert home.run(after).returncode == 0
    wait_until(lambda: {first, after} <= reached_aria2(home), 60)
    journal = (home.home / "journal.jsonl").read_bytes()
    for line in journal.splitlines():
        if line.strip():
            json.loads(line)  # no torn line left behind
    assert primary.poll() is None

"""The user's own aria2c processes are none of our business.

Acceptance item: a hand-started aria2c on port 6800 (``--no-conf``) and a
second one with its own conf file both survive our start, our quit and
``--cleanup``, and keep answering RPC.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from e2e_support import AriaProcess, counts, free_port, rpc_conf, start_primary

from aria2_core.rpc import Aria2Client
from support.app_process import AppHome

pytestmark = pytest.mark.e2e

ARIA2_DEFAULT_RPC_PORT = 6800


def _answers(proc: AriaProcess) -> bool:
    with Aria2Client(proc.port, "", timeout=3.0) as client:
        return "version" in client.get_version()


def test_foreign_aria2c_survive_start_quit_and_cleanup(app_home: AppHome, tmp_path: Path) -> None:
    port1, is_default = free_port(ARIA2_DEFAULT_RPC_PORT)
    if not is_default:
        warnings.warn(f"port 6800 is busy; the first foreign aria2c uses {port1}", stacklevel=1)
    plain_dir = tmp_path / "foreign-plain"
    plain_dir.mkdir()
    plain = AriaProcess(
        ["--enable-rpc", f"--rpc-listen-port={port1}", "--no-conf", f"--dir={plain_dir}"], port1
    )
    port2, _ = free_port()
    conf = rpc_conf(tmp_path / "foreign-conf", port2)
    with_conf = AriaProcess([f"--conf-path={conf}"], port2)
    try:
        for foreign in (plain.start(), with_conf.start()):
            foreign.wait_listening()
        foreigners = (plain, with_conf)

        primary, status = start_primary(app_home)
        assert counts(app_home) == (1, 1)
        assert status["aria2c_pid"] not in {plain.pid, with_conf.pid}
        assert status["port"] not in {port1, port2}
        assert all(f.alive() and _answers(f) for f in foreigners)

        result = app_home.run("--quit")
        assert result.returncode == 0, result.stderr
        assert primary.wait(15) == 0
        assert counts(app_home) == (0, 0)
        assert all(f.alive() and _answers(f) for f in foreigners), "our quit hit a foreign aria2c"

        cleanup = app_home.run("--cleanup")
        assert cleanup.returncode == 0, cleanup.stderr
        assert all(f.alive() and _answers(f) for f in foreigners), "--cleanup hit a foreign aria2c"
    finally:
        plain.stop()
        with_conf.stop()

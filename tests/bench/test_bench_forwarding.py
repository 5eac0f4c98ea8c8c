"""(b) Forwarding: a second launch ``main.py URL`` hands its link to the primary.

Measured from just before ``Popen`` of the second launch until *both* its
URL is in aria2 (active, waiting or stopped, polled over RPC by the bench)
*and* the process has exited; the two parts are reported too. The URLs
point at a loopback server that never answers (:class:`benchkit.BlackHole`),
so the downloads stay listed in aria2 and nothing leaves the machine.

One more launch runs with the import profiler to show what a forwarding
process loads: it should need neither Qt (QtWidgets above all) nor
``requests``. ``python -c pass`` is measured as the floor no launcher can beat,
and N more launches, interleaved, run without a bytecode cache.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from benchkit import (
    NO_BYTECODE,
    BlackHole,
    Figure,
    RpcProbe,
    app_home,
    report,
    run_with_import_profile,
    wait_rpc_ready,
)

from aria2_core.rpc import Aria2Client
from support.app_process import launch_command

pytestmark = pytest.mark.bench

RUNS = 20
TARGET_S = 0.150
TIMEOUT_S = 20.0


def known_uris(client: Aria2Client) -> set[str]:
    keys = ["files"]
    tasks = (
        client.tell_active(keys)
        + client.tell_waiting(0, 1000, keys)
        + client.tell_stopped(0, 1000, keys)
    )
    return {u["uri"] for t in tasks for f in t.get("files", []) for u in f.get("uris", [])}


def forward_once(env: dict[str, str], url: str, client: Aria2Client) -> tuple[float, float, int]:
    """Exec ``main.py url``; return (seconds to exit, seconds until aria2 lists url, code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [*launch_command(), url], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    t_exit = t_seen = None
    while t_exit is None or t_seen is None:
        now = time.perf_counter()
        if now - t0 > TIMEOUT_S:
            proc.kill()
            proc.wait()
            pytest.fail(
                f"forwarding {url} did not finish in {TIMEOUT_S} s: "
                f"exited after {t_exit} s (code {proc.returncode}), seen in aria2 after {t_seen} s"
            )
        if t_exit is None and proc.poll() is not None:
            t_exit = now - t0
        if t_seen is None and url in known_uris(client):
            t_seen = now - t0
        time.sleep(0.001)
    return t_exit, t_seen, int(proc.returncode)


def test_forwarding(bench_env: dict[str, str]) -> None:
    total, exited, seen, uncached, codes = [], [], [], [], set()
    with app_home(bench_env) as home, BlackHole() as hole:
        home.launch()
        wait_rpc_ready(home)
        probe = RpcProbe(home)
        client = probe.client()
        env = home.env()
        no_cache_env = {**env, **NO_BYTECODE}
        forward_once(env, hole.url("warm-up"), client)  # fills the bytecode cache
        for i in range(RUNS):  # interleaved, so both see the same machine load
            t_exit, t_seen, code = forward_once(env, hole.url(f"c{i}"), client)
            exited.append(t_exit)
            seen.append(t_seen)
            total.append(max(t_exit, t_seen))
            t_exit, t_seen, code2 = forward_once(no_cache_env, hole.url(f"nc{i}"), client)
            uncached.append(max(t_exit, t_seen))
            codes.update((code, code2))
        probe.close()
        profile = run_with_import_profile(home, hole.url("profiled"))
        floor = _python_floor()

    rows = [
        Figure("exec → URL in aria2 AND process exited", total, TARGET_S),
        Figure("  exec → forwarding process exited", exited, None),
        Figure("  exec → URL visible in aria2", seen, None),
        Figure("  no bytecode cache: URL in aria2 AND exited", uncached, None),
        Figure("  floor: `python -c pass`", floor, None),
    ]

    def loaded(name: str) -> str:
        return "YES" if profile.imported(name) else "no"

    notes = [
        f"exit codes: {sorted(codes)}",
        f"forwarding process imported PySide6: {loaded('PySide6')}, "
        f"PySide6.QtWidgets: {loaded('PySide6.QtWidgets')}, requests: {loaded('requests')}, "
        f"psutil: {loaded('psutil')}; {len(profile.modules)} modules, "
        f"{profile.total_ms():.0f} ms of imports (profiled)",
        "heaviest imports: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in profile.heaviest(6)),
    ]
    report("(b) forwarding a link to the running primary", rows, notes)


def _python_floor(runs: int = 10) -> list[float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        samples.append(time.perf_counter() - t0)
    return samples

"""aria2's RPC is private: a secret nobody can see, on loopback only.

Acceptance item: the secret is on no process's command line, the conf file
that holds it is 0600, RPC answers on 127.0.0.1 with the token and rejects
calls without it or with a wrong one, and the port is neither reachable on
nor bound to a non-loopback address.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from e2e_support import start_primary

from aria2_core.errors import RpcUnauthorizedError
from aria2_core.rpc import Aria2Client
from support.app_process import AppHome

pytestmark = pytest.mark.e2e


def _conf(home: AppHome) -> dict[str, str]:
    text = (home.home / "engine" / "aria2.conf").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#")


def _non_loopback_addresses() -> list[tuple[socket.AddressFamily, str]]:
    found = []
    for addrs in psutil.net_if_addrs().values():
        for addr in addrs:
            if addr.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            ip = ipaddress.ip_address(addr.address.split("%")[0])
            if not ip.is_loopback and not ip.is_link_local:
                found.append((addr.family, str(ip)))
    return found


@pytest.fixture
def running(app_home: AppHome) -> tuple[AppHome, int, str]:
    _, status = start_primary(app_home)
    conf = _conf(app_home)
    assert int(conf["rpc-listen-port"]) == status["port"]
    return app_home, status["port"], conf["rpc-secret"]


def test_secret_is_on_no_command_line_and_conf_is_private(
    running: tuple[AppHome, int, str],
) -> None:
    home, _, secret = running
    assert len(secret) >= 16
    seen = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if any(secret in arg for arg in cmdline):
            seen.append((proc.info["pid"], cmdline))
    assert not seen, f"the RPC secret is visible on argv: {seen}"
    if os.name == "posix":  # Windows: private by the profile folder's ACL (Wine has none)
        mode = stat.S_IMODE((Path(home.home) / "engine" / "aria2.conf").stat().st_mode)
        assert mode == 0o600, oct(mode)


def test_rpc_needs_the_token(running: tuple[AppHome, int, str]) -> None:
    _, port, secret = running
    with Aria2Client(port, secret, host="127.0.0.1") as client:
        assert "version" in client.get_version()

    def rejected(token: str) -> bool:
        with Aria2Client(port, token, host="127.0.0.1") as client:
            try:
                client.get_version()
            except RpcUnauthorizedError:
                return True
        return False

    # aria2 answers a bad token only after ~2 s (brute-force brake): ask both at once.
    tokens = {"missing": "", "wrong": secret[:-1] + ("A" if secret[-1] != "A" else "B")}
    with ThreadPoolExecutor(len(tokens)) as pool:
        outcome = dict(zip(tokens, pool.map(rejected, tokens.values()), strict=True))
    assert outcome == {"missing": True, "wrong": True}


def test_rpc_listening_socket_is_bound_to_loopback_only(running: tuple[AppHome, int, str]) -> None:
    home, port, _ = running
    (aria,) = home.aria2c_processes()
    listening = {
        c.laddr.ip
        for c in aria.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }
    assert "127.0.0.1" in listening
    assert all(ipaddress.ip_address(ip).is_loopback for ip in listening), listening


def test_rpc_port_is_unreachable_on_other_addresses(running: tuple[AppHome, int, str]) -> None:
    _, port, _ = running
    outside = _non_loopback_addresses()
    if not outside:
        pytest.skip("this machine has no non-loopback address to try")
    for family, address in outside:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            try:
                sock.connect((address, port))
            except OSError:
                continue
        pytest.fail(f"aria2's RPC port {port} is reachable on {address}")

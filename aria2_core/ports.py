"""Pick a free TCP port on the loopback interface for aria2c's RPC server.

The port is only *likely* free: another program can take it between our
check and aria2c's bind. The engine handles that race by retrying on a fresh
port when aria2c exits with code 1 during start-up.
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def pick_free_port(host: str = LOOPBACK) -> int:
    """Ask the kernel for an unused port on ``host`` and return it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_port_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def pid_listens_on(pid: int, port: int, host: str = LOOPBACK) -> bool:
    """True when process ``pid`` itself holds a listening socket on ``host:port``.

    Readiness must not be fooled by another program that happens to answer
    on the port (aria2c keeps running when only IPv6 could bind): the secret
    is only sent once we know the listener is the process we started.
    """
    import psutil

    try:
        conns = psutil.Process(pid).net_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(
        c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.laddr.ip == host
        for c in conns
    )

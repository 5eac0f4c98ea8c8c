"""Pick a free TCP port on the loopback interface for aria2c's RPC server.

The port is only *likely* free: another program can take it between our
check and aria2c's bind. The engine handles that race by retrying on a fresh
port when aria2c exits with code 1 during start-up.
"""

from __future__ import annotations

import socket

from .errors import AriaTrayError

LOOPBACK = "127.0.0.1"


class NoFreePortError(AriaTrayError):
    """Every ephemeral port on the loopback interface is taken (for now)."""


def pick_free_port(host: str = LOOPBACK) -> int:
    """Ask the kernel for an unused port on ``host`` and return it.

    Raises :class:`NoFreePortError` when the ephemeral range is exhausted
    (thousands of open connections), which the engine treats as a failure
    worth retrying with backoff, not as a crash of aria2c.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, 0))
        except OSError as exc:
            raise NoFreePortError(
                f"No free TCP port on {host} for aria2c's RPC server "
                f"({exc.strerror or exc}): this computer has too many connections open. "
                "Close some programs, or set a fixed RPC port (ARIA_TRAY_RPC_PORT)."
            ) from exc
        return int(sock.getsockname()[1])


def is_port_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def listening_addresses(pid: int, port: int) -> set[str]:
    """The local addresses on which process ``pid`` itself listens on TCP ``port``.

    Readiness must not be fooled by another program that answers on the
    port: the secret is only sent once we know the listener is the process
    we started. And aria2c keeps running when only one of IPv4/IPv6 could
    bind, so "listens on ::1 but not 127.0.0.1" is a port conflict to act on.
    """
    import psutil

    try:
        conns = psutil.Process(pid).net_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return set()
    return {
        c.laddr.ip
        for c in conns
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
    }


def pid_listens_on(pid: int, port: int, host: str = LOOPBACK) -> bool:
    """True when process ``pid`` itself holds a listening socket on ``host:port``."""
    return host in listening_addresses(pid, port)


def accepts_connections(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port`` right now.

    Costs one connect: far cheaper than reading the system's socket table,
    which on a busy host (or under Wine) can take a hundred milliseconds.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False

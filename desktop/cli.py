"""Command line: ``aria-tray [URL|FILE …] [--quit|--show|--status|--cleanup|--register|…]``.

The forwarding path is kept lean on purpose: a second launch connects to
the primary with plain sockets (no Qt, no ``requests`` on POSIX), hands over
its links, waits for the acknowledgement and exits. Qt is imported only
when this process has to take the instance lock, and QtWidgets only when it
becomes the primary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from aria2_core import APP_NAME, __version__
from aria2_core.errors import AriaTrayError, IpcError, UnsafeFolderError
from aria2_core.home_check import HomeError, check_home
from aria2_core.ipc_protocol import new_request_id
from aria2_core.links import parse_many
from aria2_core.paths import AppPaths

from .frozen_env import attach_parent_console, restore_process_environment
from .ipc_client import (
    forward_or_acquire,
    lock_holder_alive,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_RUNNING = 3
QUIT_WAIT_S = 15.0
CONTROL_WAIT_S = 10.0  # --status/--quit/--show retry a busy primary this long


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aria-tray",
        description=(
            f"{APP_NAME}: a tray download manager driving one private aria2c. "
            "Links and files given here go to the running instance, or start it."
        ),
        epilog=(
            "Exit codes: 0 ok, 1 error (also: none of the links given can be added), 2 usage, "
            "3 not running (--status, --quit, --show). "
            "ARIA_TRAY_HOME chooses the app home (tests, portable use)."
        ),
    )
    parser.add_argument(
        "items",
        nargs="*",
        metavar="URL|FILE",
        help="http(s)/ftp/sftp URLs, magnet links, .torrent/.metalink/.meta4 files",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quit", action="store_true", help="quit the running instance and wait")
    group.add_argument("--show", action="store_true", help="bring the running instance forward")
    group.add_argument("--status", action="store_true", help="print the running instance's state")
    group.add_argument(
        "--cleanup",
        action="store_true",
        help="stop aria2c processes orphaned by a crash of this app home (and nothing else)",
    )
    group.add_argument(
        "--register",
        action="store_true",
        help="open magnet links, .torrent and .metalink files with Aria Tray (this user only)",
    )
    group.add_argument("--unregister", action="store_true", help="remove what --register installed")
    group.add_argument(
        "--native-host",
        action="store_true",
        help="run as the browser extension's native messaging host (the browser starts this)",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    return parser


def normalise_items(items: list[str], cwd: str) -> list[str]:
    """Make existing file paths absolute: the primary has another working folder."""
    out = []
    for item in items:
        candidate = os.path.join(cwd, os.path.expanduser(item))
        out.append(os.path.abspath(candidate) if os.path.exists(candidate) else item)
    return out


def _lazy_lock(paths: AppPaths) -> tuple[Callable[[], bool], Callable[[], Any]]:
    """A try-lock function that imports Qt only when first called."""
    holder: dict[str, Any] = {}

    def try_lock() -> bool:
        if "lock" not in holder:
            from .heap import skip_pyside_source_scan

            skip_pyside_source_scan()  # before any module that imports Qt
            from .instance_lock import InstanceLock

            holder["lock"] = InstanceLock.for_paths(paths)
        return bool(holder["lock"].try_acquire())

    return try_lock, lambda: holder.get("lock")


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _err(message: str) -> None:
    if sys.stderr is not None:
        print(f"aria-tray: {message}", file=sys.stderr)


def _all_rejected(items: list[str], cwd: str) -> bool:
    """True (and each reason printed) when links were given and none of them can be added."""
    if not items:
        return False
    parsed = parse_many(items, cwd)
    if parsed.links or not parsed.errors:
        return False
    _err(f"no link was added: none of the {len(parsed.errors)} given can be downloaded.")
    for error in parsed.errors:
        _err(f"  {error}")
    return True


def _control(paths: AppPaths, cmd: str) -> int:
    """--quit, --show, --status: talk to a running primary; never start one.

    A primary between taking the lock and opening its doorbell is running: the
    command waits for it (the wait of a launch for a starting primary, with
    "the lock is free" meaning "not running" instead of "take it").
    """
    try:
        result = forward_or_acquire(
            paths.server_name,
            cmd,
            {},
            lambda: not lock_holder_alive(paths.lock_file),
            deadline=CONTROL_WAIT_S,
            lock_path=paths.lock_file,
        )
    except IpcError as exc:  # a refusal, a garbled reply, a holder that never answers
        _err(str(exc))
        return EXIT_ERROR
    if result is None:  # nobody answers and nobody holds the lock
        if cmd == "status":
            _print_json({"running": False, "home": str(paths.home)})
        else:
            _err(f"{APP_NAME} is not running.")
        return EXIT_NOT_RUNNING
    if cmd == "status":
        _print_json(result)
    elif cmd == "quit":
        return _wait_for_exit(int(result.get("pid", 0)))
    return EXIT_OK


def end_forwarding_launch(code: int) -> None:
    """End a handed-over launch now, without the interpreter's teardown.

    The primary starts the download as soon as it has acknowledged, so
    whatever this process does after the answer competes with the transfer
    it just began. Tearing down the modules imported so far took 12-40 ms of
    CPU, and on two cores a CPU burst at the start of a 1 GiB loopback
    download slows the whole transfer, not just its first milliseconds
    (issue 11, item 5). Nothing is left to do: the links are the primary's,
    our messages are flushed here, and no file of ours is open.
    """
    for stream in (sys.stdout, sys.stderr):  # None in a windowed build
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    os._exit(code)


def _wait_for_exit(pid: int) -> int:
    """--quit returns once the primary (and so its aria2c) is gone."""
    import psutil

    from aria2_core.process_tree import wait_gone

    if pid <= 0:
        return EXIT_OK
    try:
        gone = wait_gone(psutil.Process(pid), QUIT_WAIT_S)
    except psutil.NoSuchProcess:
        return EXIT_OK
    if gone:
        return EXIT_OK
    _err(f"{APP_NAME} (pid {pid}) is still shutting down after {QUIT_WAIT_S:.0f} s.")
    return EXIT_ERROR


def _cleanup(paths: AppPaths) -> int:
    """Stop verified orphans of this app home; refuse while a primary is alive."""
    from aria2_core.orphans import cleanup_orphan

    from .instance_lock import InstanceLock

    lock = InstanceLock.for_paths(paths)
    if not lock.try_acquire():
        pid = lock.holder_pid()
        _err(
            f"refusing to clean up: {APP_NAME} is running (pid {pid}) and owns its aria2c. "
            "Quit it first with --quit."
        )
        return EXIT_ERROR
    try:
        report = cleanup_orphan(paths)
    finally:
        lock.release()
    print(report.detail)
    return EXIT_OK


def _integration(register: bool) -> int:
    """--register / --unregister: needs no app home and no Qt (imported only here)."""
    from .integration import IntegrationError, register_desktop, unregister_desktop

    try:
        report = register_desktop() if register else unregister_desktop()
    except IntegrationError as exc:
        _err(str(exc))
        return EXIT_ERROR
    print(report.text())
    return EXIT_OK


def is_native_host_launch(argv: list[str]) -> bool:
    """Started by a browser: ``--native-host`` first, or Chromium's bare origin argument.

    Checked before argparse, because browsers append arguments of their own
    (``chrome-extension://<id>/``, ``--parent-window=<n>``, Firefox's
    manifest path and extension id).
    """
    return bool(argv) and (argv[0] == "--native-host" or argv[0].startswith("chrome-extension://"))


def main(argv: list[str] | None = None) -> int:
    restore_process_environment()  # frozen: children get the user's LD_LIBRARY_PATH
    arguments = sys.argv[1:] if argv is None else argv
    if is_native_host_launch(arguments):
        from .native_host import main as native_host_main  # stdio belongs to the browser

        return native_host_main()
    attach_parent_console(arguments)  # windowed Windows build
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.register or args.unregister:
        if args.items:
            parser.error("--register and --unregister take no links")
        return _integration(args.register)
    paths = AppPaths.for_home()
    for cmd in ("quit", "show", "status"):
        if getattr(args, cmd):
            # Talking to a primary writes nothing: a read-only home, or one of
            # another user's, is no reason to fail.
            return _control(paths, cmd)
    try:
        check_home(paths)  # another user's home or files, a folder where a file goes
        paths.ensure()
    except (HomeError, UnsafeFolderError) as exc:
        _err(str(exc))
        return EXIT_ERROR
    except OSError as exc:
        _err(f"cannot create the app home {paths.home}: {exc}")
        return EXIT_ERROR
    try:
        if args.cleanup:
            return _cleanup(paths)
        cwd = os.getcwd()
        items = normalise_items(args.items, cwd)
        cmd, payload = ("open", {"items": items, "cwd": cwd}) if items else ("show", {})
        rejected = _all_rejected(items, cwd)
        try_lock, get_lock = _lazy_lock(paths)
        # One id for every try: if a primary journaled our links and died before it
        # answered, we journal them under the same id as the next primary: added once.
        request_id = new_request_id()
        result = forward_or_acquire(
            paths.server_name,
            cmd,
            payload,
            try_lock,
            lock_path=paths.lock_file,
            request_id=request_id,
        )
        if result is not None:
            # Handed over all the same: the primary says it in a tray notice too.
            code = EXIT_ERROR if rejected else EXIT_OK
            if argv is None:  # a process of its own: main.py, the entry point, the frozen app
                end_forwarding_launch(code)
            return code
        from .startup import run_primary

        return run_primary(paths, get_lock(), items, request_id)
    except AriaTrayError as exc:
        _err(str(exc))
        return EXIT_ERROR

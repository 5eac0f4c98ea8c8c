"""Build the aria2c command line and its private config file.

The RPC secret and everything that shapes the RPC server go into a config
file that only the user can read (0600), passed with ``--conf-path``. Three
reasons:

* ``/proc/<pid>/cmdline`` is readable by every user, so a secret on argv is
  a secret shared with the machine;
* aria2c otherwise reads ``~/.aria2/aria2.conf``, where a ``daemon=true``
  would make it double-fork out of our hands;
* the conf path is unique to our app home, so it identifies *our* aria2c in
  the process table (see ``aria2_core.orphans``).

Only ``--conf-path`` and ``--stop-with-process`` appear on the command line.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .atomic_file import write_atomic
from .errors import ConfigError
from .paths import AppPaths, default_download_dir

# Options an extra-options setting may never set: each one would break a
# promise (loopback-only RPC, a secret, no daemon, our session, our life).
FORBIDDEN_OPTIONS = frozenset(
    {
        "conf-path",
        "daemon",
        "enable-rpc",
        "input-file",
        "rpc-allow-origin-all",
        "rpc-certificate",
        "rpc-listen-all",
        "rpc-listen-port",
        "rpc-passwd",
        "rpc-private-key",
        "rpc-secret",
        "rpc-secure",
        "rpc-user",
        "save-session",
        "save-session-interval",
        "stop",
        "stop-with-process",
    }
)

# How often aria2c rewrites the session file and the .aria2 control files.
# A SIGKILL of aria2c loses at most this much queue state and progress.
SESSION_SAVE_INTERVAL_S = 1
CONTROL_FILE_SAVE_INTERVAL_S = 1


@dataclass
class EngineSettings:
    """What the user can change about the engine; defaults suit most people."""

    download_dir: Path = field(default_factory=default_download_dir)
    max_concurrent_downloads: int = 5
    max_connection_per_server: int = 8
    split: int = 8
    max_overall_download_limit: int = 0  # bytes/s, 0 = unlimited
    max_overall_upload_limit: int = 0  # bytes/s, 0 = unlimited
    seed_ratio: float = 1.0  # 0 = seed regardless of ratio
    seed_time: float | None = None  # minutes; None = no time limit (aria2's 0 = no seeding)
    user_agent: str = ""  # empty = aria2's own
    all_proxy: str = ""  # empty = no proxy
    extra_options: dict[str, str] = field(default_factory=dict)
    binary_override: str | None = None
    preferred_port: int | None = None


def _number(value: float) -> str:
    """``1.0`` -> ``"1.0"``, ``2.5`` -> ``"2.5"``; never scientific notation."""
    return f"{value:.6f}".rstrip("0").rstrip(".") + (".0" if float(value).is_integer() else "")


def user_options(settings: EngineSettings) -> dict[str, str]:
    """The aria2 options behind the typed settings, as aria2 spells them.

    Used twice: written into the conf file at every start, and diffed to
    change a running aria2c with ``aria2.changeGlobalOption``. An empty
    user agent, proxy or seed time is left out, so aria2's own default holds.
    """
    options = {
        "dir": str(settings.download_dir),
        "max-concurrent-downloads": str(settings.max_concurrent_downloads),
        "max-connection-per-server": str(settings.max_connection_per_server),
        "split": str(settings.split),
        "max-overall-download-limit": str(max(0, int(settings.max_overall_download_limit))),
        "max-overall-upload-limit": str(max(0, int(settings.max_overall_upload_limit))),
        "seed-ratio": _number(settings.seed_ratio),
    }
    if settings.seed_time is not None:
        options["seed-time"] = _number(settings.seed_time)
    if settings.user_agent:
        options["user-agent"] = settings.user_agent
    if settings.all_proxy:
        options["all-proxy"] = settings.all_proxy
    return options


@dataclass(frozen=True)
class LaunchSpec:
    """Everything needed to start one aria2c: program, argv, and how to reach it."""

    program: str
    arguments: list[str]
    port: int
    secret: str
    conf_path: Path


def new_secret() -> str:
    """A fresh RPC secret: 256 bits, URL-safe, never reused across starts."""
    return secrets.token_urlsafe(32)


def validate_extra_options(options: Mapping[str, str]) -> dict[str, str]:
    """Normalise user-supplied aria2c options; reject the ones we own.

    Keys may be given with or without leading dashes. Raises ``ConfigError``
    naming the first forbidden or malformed option.
    """
    clean: dict[str, str] = {}
    for raw_key, raw_value in options.items():
        key = str(raw_key).strip().lstrip("-")
        value = str(raw_value).strip()
        if not key or any(c.isspace() or c == "=" for c in key):
            raise ConfigError(f"'{raw_key}' is not an aria2c option name.")
        if "\n" in value or "\r" in value:
            raise ConfigError(f"The value of '{key}' must fit on one line.")
        if key in FORBIDDEN_OPTIONS:
            raise ConfigError(
                f"'{key}' cannot be set: Aria Tray manages it to keep RPC private "
                "and aria2c tied to the app."
            )
        clean[key] = value
    return clean


def _conf_lines(paths: AppPaths, settings: EngineSettings, port: int, secret: str) -> list[str]:
    extra = validate_extra_options(settings.extra_options)
    options: dict[str, str] = {
        **user_options(settings),
        "continue": "true",
        "file-allocation": "falloc" if sys.platform.startswith("linux") else "prealloc",
        "auto-save-interval": str(CONTROL_FILE_SAVE_INTERVAL_S),
        # Console output goes to our log; keep it to warnings and results.
        "console-log-level": "warn",
        "summary-interval": "0",
        "show-console-readout": "false",
        "enable-color": "false",
        "rpc-max-request-size": "64M",
    }
    options.update(extra)
    # Ours last, so nothing above can override them.
    options.update(
        {
            "daemon": "false",
            "enable-rpc": "true",
            "rpc-listen-all": "false",
            "rpc-allow-origin-all": "false",
            "rpc-listen-port": str(port),
            "rpc-secret": secret,
            "input-file": str(paths.session_file),
            "save-session": str(paths.session_file),
            "save-session-interval": str(SESSION_SAVE_INTERVAL_S),
        }
    )
    header = [
        "# Written by Aria Tray for one run of aria2c; rewritten at every start.",
        "# It holds the RPC secret: keep it private (mode 0600).",
    ]
    return header + [f"{key}={value}" for key, value in options.items()]


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the user only, replacing it atomically."""
    write_atomic(path, text.encode("utf-8"))


def ensure_session_file(paths: AppPaths) -> None:
    """aria2c exits 1 when ``--input-file`` is missing, so make an empty one."""
    paths.engine_dir.mkdir(parents=True, exist_ok=True)
    if not paths.session_file.exists():
        write_private_file(paths.session_file, "")


def build_launch(
    binary: Path,
    paths: AppPaths,
    settings: EngineSettings,
    port: int,
    owner_pid: int,
    secret: str | None = None,
) -> LaunchSpec:
    """Write the private config and return how to start aria2c with it."""
    secret = secret or new_secret()
    ensure_session_file(paths)
    conf_text = "\n".join(_conf_lines(paths, settings, port, secret)) + "\n"
    write_private_file(paths.conf_file, conf_text)
    arguments = [
        conf_path_argument(paths.conf_file),
        f"--stop-with-process={owner_pid}",
    ]
    return LaunchSpec(str(binary), arguments, port, secret, paths.conf_file)


def conf_path_argument(conf_path: Path) -> str:
    """The exact argv element that marks an aria2c as started for ``conf_path``."""
    return f"--conf-path={conf_path}"

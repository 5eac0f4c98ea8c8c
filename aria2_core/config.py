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

import logging
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .atomic_file import write_atomic
from .errors import ConfigError
from .paths import AppPaths, default_download_dir
from .session_scan import restore_may_act

log = logging.getLogger("aria_tray.engine")

# Options an extra-options setting may never set: each one would break a
# promise (loopback-only RPC, a secret, no daemon, our session, our life).
FORBIDDEN_OPTIONS = frozenset(
    {
        "conf-path",
        "daemon",
        "enable-rpc",
        "bt-save-metadata",
        "dht-file-path",
        "dht-file-path6",
        "input-file",
        "rpc-allow-origin-all",
        "rpc-certificate",
        "rpc-listen-all",
        "rpc-listen-port",
        "rpc-passwd",
        "rpc-private-key",
        "rpc-save-upload-metadata",
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
    # Seeding stops at whichever limit comes first. A torrent with no peers
    # never reaches the ratio, so the time limit is what ends it.
    seed_ratio: float = 1.0  # 0 = seed regardless of ratio
    seed_time: float | None = 60.0  # minutes; None = no time limit (aria2's 0 = no seeding)
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
    for key, value in options.items():
        check_value(key, value)
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


def has_control_character(text: str) -> bool:
    """True for any C0 control character (newline, tab, escape, NUL, ...) or DEL.

    A conf file (and aria2's session file) is one ``key=value`` per line, so a
    newline in a value would start a line of its own choosing, such as a
    download hook. No aria2 option value needs any of these characters.
    """
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def check_value(key: str, value: str) -> None:
    """Raise ``ConfigError`` unless ``value`` is safe to write as ``key=value``."""
    if has_control_character(value):
        raise ConfigError(
            f"The value of '{key}' contains a control character (such as a line break); "
            "remove it and try again."
        )


def validate_extra_options(options: Mapping[str, str]) -> dict[str, str]:
    """Normalise user-supplied aria2c options; reject the ones we own.

    Keys may be given with or without leading dashes. Raises ``ConfigError``
    naming the first forbidden or malformed option.
    """
    clean: dict[str, str] = {}
    for raw_key, raw_value in options.items():
        key = str(raw_key).strip().lstrip("-")
        value = str(raw_value).strip()
        if has_control_character(key):
            raise ConfigError(f"The option name {key!r} contains a control character.")
        if not key or any(c.isspace() or c == "=" for c in key):
            raise ConfigError(f"'{raw_key}' is not an aria2c option name.")
        check_value(key, value)
        if key in FORBIDDEN_OPTIONS:
            raise ConfigError(
                f"'{key}' cannot be set: Aria Tray manages it to keep RPC private "
                "and aria2c tied to the app."
            )
        clean[key] = value
    return clean


def _conf_options(
    paths: AppPaths, settings: EngineSettings, port: int, secret: str
) -> dict[str, str]:
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
        # A seeding torrent does not take one of max-concurrent-downloads'
        # slots, so an HTTP download never waits behind a seed.
        "bt-detach-seed-only": "true",
    }
    options.update(extra)
    # Ours last, so nothing above can override them.
    options.update(_owned_options(paths, port, secret))
    for key, value in options.items():
        check_value(key, value)
    return options


def _owned_options(paths: AppPaths, port: int, secret: str) -> dict[str, str]:
    """The options that keep RPC private and aria2c ours (``FORBIDDEN_OPTIONS`` to users)."""
    return {
        "daemon": "false",
        "enable-rpc": "true",
        "rpc-listen-all": "false",
        "rpc-allow-origin-all": "false",
        "rpc-listen-port": str(port),
        "rpc-secret": secret,
        "input-file": str(paths.session_file),
        "save-session": str(paths.session_file),
        "save-session-interval": str(SESSION_SAVE_INTERVAL_S),
        # aria2's own files stay in the app home. It would write a copy of
        # every torrent/metalink added over RPC into the user's download
        # folder, and its DHT table into ~/.cache/aria2. The app keeps its
        # own copies (aria2_core.ledger). A magnet's metadata is the one
        # copy aria2 must write (nothing else can give us its bytes, and
        # without them a seeding magnet would wait for peers to send them
        # again after a restart); the next refresh moves it into the app
        # home (session_restore.keep_magnet_metadata).
        "rpc-save-upload-metadata": "false",
        "bt-save-metadata": "true",
        "dht-file-path": str(paths.dht_file),
        "dht-file-path6": str(paths.dht_file.with_name("dht6.dat")),
    }


_CONF_HEADER = [
    "# Written by Aria Tray for one run of aria2c; rewritten at every start.",
    "# It holds the RPC secret: keep it private (mode 0600).",
]


def render_conf(paths: AppPaths, settings: EngineSettings, port: int, secret: str) -> str:
    """The conf file's text, checked after rendering (see :func:`check_rendered`)."""
    options = _conf_options(paths, settings, port, secret)
    text = "\n".join(_CONF_HEADER + [f"{key}={value}" for key, value in options.items()]) + "\n"
    check_rendered(text, options, _owned_options(paths, port, secret))
    return text


def check_rendered(text: str, options: Mapping[str, str], owned: Mapping[str, str]) -> None:
    """Read the rendered conf back the way aria2c will, and compare with ``options``.

    The last line of defence: whatever slipped past the checks above, the
    file must say exactly what we meant, one line per option, and every
    forbidden option in it must be one we set (``owned``), with our value.
    """
    seen: dict[str, str] = {}
    for line in text.replace("\r", "\n").split("\n"):
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or key in seen:
            raise ConfigError(f"aria2.conf would hold an unexpected line: {line[:80]!r}")
        seen[key] = value
    if seen != dict(options):
        raise ConfigError("aria2.conf would not say what the settings say; not starting aria2c.")
    for key in FORBIDDEN_OPTIONS & seen.keys():
        if owned.get(key) != seen[key]:
            raise ConfigError(f"aria2.conf would set '{key}', which Aria Tray manages.")


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the user only, replacing it atomically.

    Not fsync'd: everything written here is made again before it is needed
    (the conf and an empty session at every launch, the option cache when
    missing) or is worthless after a power cut, which ends aria2c too (the
    ownership record). A start thus launches aria2c without waiting for the
    disk, which on a spinning one is tens of milliseconds per fsync.
    """
    write_atomic(path, text.encode("utf-8"), durable=False)


def ensure_session_file(paths: AppPaths) -> None:
    """aria2c exits 1 when ``--input-file`` is missing, so make an empty one.

    Then add back the torrents and metalinks aria2 could not save itself
    (``aria2_core.session_restore``; imported here, as it uses this module's
    checks, and only when it may have work: ``aria2_core.session_scan``).
    """
    paths.engine_dir.mkdir(parents=True, exist_ok=True)
    if not paths.session_file.exists():
        write_private_file(paths.session_file, "")
    if not restore_may_act(paths):
        return
    from .session_restore import restore_into_session

    try:
        restore_into_session(paths)
    except Exception:  # bookkeeping: aria2c starts on its own session regardless
        log.exception("could not restore torrents and metalinks into %s", paths.session_file)


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
    conf_text = render_conf(paths, settings, port, secret)
    write_private_file(paths.conf_file, conf_text)
    arguments = [
        conf_path_argument(paths.conf_file),
        f"--stop-with-process={owner_pid}",
    ]
    return LaunchSpec(str(binary), arguments, port, secret, paths.conf_file)


def conf_path_argument(conf_path: Path) -> str:
    """The exact argv element that marks an aria2c as started for ``conf_path``."""
    return f"--conf-path={conf_path}"

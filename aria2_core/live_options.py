"""Which settings a running aria2c takes at once, and which need a restart.

``aria2.changeGlobalOption`` answers "OK" to *any* option, yet silently
ignores those it cannot change while running (``disk-cache``,
``rpc-listen-port``, …: checked against aria2 1.37). So "did it work?"
cannot be read from the answer; it has to be known beforehand. The list
below is aria2's documented one: the global options it changes live, plus
every per-download ("input file") option except ``checksum``,
``index-out``, ``out``, ``pause`` and ``select-file``. A changed per-download
option applies to downloads added afterwards.

:func:`plan_change` diffs two :class:`EngineSettings` into the options to
send live and the reasons, if any, why aria2c must restart instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import EngineSettings, user_options

_GLOBAL_LIVE = {
    "bt-max-open-files", "download-result", "keep-unfinished-download-result", "log",
    "log-level", "max-concurrent-downloads", "max-download-result",
    "max-overall-download-limit", "max-overall-upload-limit", "optimize-concurrent-downloads",
    "save-cookies", "server-stat-of",
}  # fmt: skip

_PER_DOWNLOAD_LIVE = {
    "all-proxy", "all-proxy-passwd", "all-proxy-user", "allow-overwrite",
    "allow-piece-length-change", "always-resume", "async-dns", "auto-file-renaming",
    "bt-enable-hook-after-hash-check", "bt-enable-lpd", "bt-exclude-tracker", "bt-external-ip",
    "bt-force-encryption", "bt-hash-check-seed", "bt-load-saved-metadata", "bt-max-peers",
    "bt-metadata-only", "bt-min-crypto-level", "bt-prioritize-piece",
    "bt-remove-unselected-file", "bt-request-peer-speed-limit", "bt-require-crypto",
    "bt-save-metadata", "bt-seed-unverified", "bt-stop-timeout", "bt-tracker",
    "bt-tracker-connect-timeout", "bt-tracker-interval", "bt-tracker-timeout",
    "check-integrity", "conditional-get", "connect-timeout", "content-disposition-default-utf8",
    "continue", "dir", "dry-run", "enable-http-keep-alive", "enable-http-pipelining",
    "enable-mmap", "enable-peer-exchange", "file-allocation", "follow-metalink",
    "follow-torrent", "force-save", "ftp-passwd", "ftp-pasv", "ftp-proxy", "ftp-proxy-passwd",
    "ftp-proxy-user", "ftp-reuse-connection", "ftp-type", "ftp-user", "gid", "hash-check-only",
    "header", "http-accept-gzip", "http-auth-challenge", "http-no-cache", "http-passwd",
    "http-proxy", "http-proxy-passwd", "http-proxy-user", "http-user", "https-proxy",
    "https-proxy-passwd", "https-proxy-user", "lowest-speed-limit", "max-connection-per-server",
    "max-download-limit", "max-file-not-found", "max-mmap-limit", "max-resume-failure-tries",
    "max-tries", "max-upload-limit", "metalink-base-uri", "metalink-enable-unique-protocol",
    "metalink-language", "metalink-location", "metalink-os", "metalink-preferred-protocol",
    "metalink-version", "min-split-size", "no-file-allocation-limit", "no-netrc", "no-proxy",
    "parameterized-uri", "pause-metadata", "piece-length", "proxy-method",
    "realtime-chunk-checksum", "referer", "remote-time", "remove-control-file", "retry-wait",
    "reuse-uri", "rpc-save-upload-metadata", "seed-ratio", "seed-time", "split",
    "ssh-host-key-md", "stream-piece-selector", "timeout", "uri-selector", "use-head",
    "user-agent",
}  # fmt: skip

LIVE_OPTIONS = frozenset(_GLOBAL_LIVE | _PER_DOWNLOAD_LIVE)

# Options whose "not set" aria2 takes live as a value (checked: all-proxy="" means no proxy).
_CLEAR_VALUES = {"all-proxy": "", "http-proxy": "", "https-proxy": "", "ftp-proxy": ""}

# Why a change needs aria2c restarted (the UI words them; this layer has no tr()).
RESTART_BINARY = "binary"  # another aria2c executable
RESTART_NOT_LIVE = "not-live"  # an extra option aria2 reads only at start
RESTART_UNSET = "unset"  # an option removed: only a fresh start forgets it


@dataclass(frozen=True)
class RestartReason:
    """One reason for a restart; ``option`` names the aria2 option, if any."""

    kind: str
    option: str = ""


@dataclass
class SettingsChange:
    """What applying new settings takes: options to send, or reasons to restart."""

    live: dict[str, str] = field(default_factory=dict)
    restart: list[RestartReason] = field(default_factory=list)

    @property
    def needs_restart(self) -> bool:
        return bool(self.restart)


def effective_options(settings: EngineSettings) -> dict[str, str]:
    """Typed settings plus extra options, as the conf file ends up holding them."""
    options = user_options(settings)
    options.update({k.strip().lstrip("-"): v for k, v in settings.extra_options.items()})
    return options


def plan_change(old: EngineSettings, new: EngineSettings) -> SettingsChange:
    """Diff ``old`` (what aria2c runs with) against ``new``.

    An option whose value changed goes live when aria2 allows it; one that
    disappeared (an extra option deleted, the seed time or user agent
    cleared) cannot be "unset" over RPC, so it asks for a restart, as does
    another aria2c binary.
    """
    change = SettingsChange()
    if (old.binary_override or "") != (new.binary_override or ""):
        change.restart.append(RestartReason(RESTART_BINARY))
    before, after = effective_options(old), effective_options(new)
    for key, value in after.items():
        if before.get(key) == value:
            continue
        if key in LIVE_OPTIONS:
            change.live[key] = value
        else:
            change.restart.append(RestartReason(RESTART_NOT_LIVE, key))
    for key in sorted(before.keys() - after.keys()):
        if key in _CLEAR_VALUES:
            change.live[key] = _CLEAR_VALUES[key]
        else:
            change.restart.append(RestartReason(RESTART_UNSET, key))
    return change

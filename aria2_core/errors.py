"""The small exception tree of Aria Tray.

Every error a user can meet carries a message that says what happened and,
where there is one, what to do about it. Callers catch ``AriaTrayError`` at
the UI boundary and show ``str(exc)``.
"""

from __future__ import annotations


class AriaTrayError(Exception):
    """Base of every error Aria Tray raises on purpose."""


class BinaryNotFoundError(AriaTrayError):
    """No usable aria2c executable was found."""


class ConfigError(AriaTrayError):
    """A setting or an extra aria2c option is invalid or forbidden."""


class LinkError(AriaTrayError):
    """A link or file given by the user cannot be downloaded.

    ``source`` is the offending input, exactly as the user gave it, so a UI
    can show one message per bad line.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{reason}: {source!r}")
        self.source = source
        self.reason = reason


class RpcError(AriaTrayError):
    """aria2 answered a JSON-RPC call with an error object."""

    def __init__(self, code: int, message: str, method: str = "") -> None:
        where = f" ({method})" if method else ""
        super().__init__(f"aria2 error {code}{where}: {message}")
        self.code = code
        self.message = message
        self.method = method


class RpcUnauthorizedError(RpcError):
    """The secret token was missing or wrong (aria2 says "Unauthorized")."""


class RpcConnectionError(AriaTrayError):
    """aria2 could not be reached, or did not answer in time."""


class UnsafeFolderError(AriaTrayError):
    """A folder we would keep private files or our socket in is not ours alone."""


class IpcError(AriaTrayError):
    """A single-instance IPC frame was malformed, too large or timed out."""


class OwnershipError(AriaTrayError):
    """The aria2c ownership record could not be read or written."""

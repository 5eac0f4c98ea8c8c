"""A thin, blocking JSON-RPC client for aria2 over HTTP.

The client maps 1:1 onto aria2's methods and does only three things on top:
it adds the ``token:<secret>`` parameter, it turns aria2's error objects into
typed exceptions (:class:`RpcUnauthorizedError`, :class:`RpcError`), and it
turns every transport failure into :class:`RpcConnectionError` naming the
endpoint. Anything smarter (polling, models, retries) belongs to the layers
above, which call it from a worker thread: every method here blocks.

Facts about aria2 1.37 that shaped it (checked against the real binary):

* aria2 answers JSON-RPC errors with HTTP 400 (500 for a parse error), so the
  HTTP status is not an error signal; the JSON body is.
* A wrong or missing token is ``{"code": 1, "message": "Unauthorized"}``,
  the same code aria2 uses for "GID … is not found", so only the message
  tells them apart.
* ``system.listMethods`` and ``system.listNotifications`` take no token;
  ``system.multicall`` takes none itself, but every inner call needs one.
* In a multicall answer a success is a one-element list ``[result]`` and a
  failure is a bare ``{"code", "message"}`` object.
"""

from __future__ import annotations

import base64
import itertools
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic_file import SHARING_WAIT_S
from .errors import LinkError, RpcConnectionError, RpcError, RpcUnauthorizedError
from .json_pieces import LeafMemo, loads_in_pieces
from .lean_requests import load as load_requests
from .links import Link, LinkKind

if TYPE_CHECKING:
    import requests

UNAUTHORIZED_MESSAGE = "Unauthorized"

# Methods aria2 serves without a token. Everything else under ``aria2.`` needs one.
_TOKENLESS = frozenset({"system.listMethods", "system.listNotifications", "system.multicall"})

# ``changePosition`` anchors.
POS_SET = "POS_SET"
POS_CUR = "POS_CUR"
POS_END = "POS_END"

OptionValue = str | int | float | bool | Sequence[str]
Options = Mapping[str, OptionValue]
Call = tuple[str, Sequence[Any]]


def stringify_options(options: Options | None) -> dict[str, str | list[str]]:
    """Return ``options`` with every value as aria2 expects it: a string.

    aria2 documents option values as strings and rejects or misreads numbers
    in some versions, so ``{"split": 4}`` becomes ``{"split": "4"}``. Booleans
    become ``"true"``/``"false"`` (Python's ``str(True)`` would be wrong).
    A list stays a list of strings: aria2 accepts that for repeatable options
    such as ``header``.
    """
    result: dict[str, str | list[str]] = {}
    for key, value in (options or {}).items():
        if isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, str):
            result[key] = value
        elif isinstance(value, int | float):
            result[key] = str(value)
        elif isinstance(value, Sequence):
            result[key] = [str(item) for item in value]
        else:
            raise TypeError(f"aria2 option {key!r} has an unsupported value {value!r}")
    return result


def _file_base64(path: str | Path) -> str:
    """The content of a .torrent or metalink file, base64-encoded for aria2."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LinkError(str(path), f"cannot read file ({exc.strerror or exc})") from exc
    return base64.b64encode(data).decode("ascii")


def _add_params(first: Any, options: Options | None, position: int | None) -> list[Any]:
    params: list[Any] = [first, stringify_options(options)]
    if position is not None:
        params.append(int(position))
    return params


def build_add_calls(links: Iterable[Link], options: Options | None = None) -> list[Call]:
    """Turn a parsed batch of links into ``(method, params)`` for :meth:`Aria2Client.multicall`.

    One call per link, in order, so the multicall answer lines up with the
    batch and a UI can report each link's own outcome. A file that vanished
    since parsing raises :class:`LinkError` here rather than being skipped:
    the caller decides whether the rest of the batch still goes.
    """
    calls: list[Call] = []
    for link in links:
        if link.kind in (LinkKind.URI, LinkKind.MAGNET):
            calls.append(("aria2.addUri", _add_params([link.value], options, None)))
        elif link.kind is LinkKind.TORRENT:
            params = _add_params(_file_base64(link.value), options, None)
            params.insert(1, [])  # no web seeds
            calls.append(("aria2.addTorrent", params))
        elif link.kind is LinkKind.METALINK:
            calls.append(
                ("aria2.addMetalink", _add_params(_file_base64(link.value), options, None))
            )
        else:  # pragma: no cover - LinkKind is closed
            raise ValueError(f"unknown link kind {link.kind!r}")
    return calls


class Aria2Client:
    """Blocking client for one aria2c's JSON-RPC endpoint.

    One instance holds one keep-alive HTTP session. It is meant to be used
    from a single worker thread; only the request ids are shared safely.
    """

    def __init__(
        self, port: int, secret: str, host: str = "127.0.0.1", timeout: float = 5.0
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.url = f"http://{host}:{port}/jsonrpc"
        self._secret = secret
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()
        self._session: requests.Session | None = None  # made by the first call

    def __repr__(self) -> str:
        return f"Aria2Client({self.host}:{self.port})"

    def __enter__(self) -> Aria2Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the keep-alive connection. The client is unusable afterwards."""
        if self._session is not None:
            self._session.close()

    def _http(self) -> requests.Session:
        """The keep-alive session, made (and ``requests`` imported) on the first call.

        Not at import time, nor when the client is made: requests costs a
        quarter of a second and megabytes, the primary launches aria2c before
        it needs a client, and the first call runs on the worker thread, so
        the GUI thread never pays for the import. It is imported lean
        (:mod:`aria2_core.lean_requests`): plain http, no encoding detection.
        """
        if self._session is None:
            session = load_requests().Session()
            # An HTTP(S)_PROXY or ALL_PROXY in the environment must never capture
            # loopback RPC, and a .netrc must not add credentials to it.
            session.trust_env = False
            self._session = session
        return self._session

    # -- core ----------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    def _with_token(self, method: str, params: Sequence[Any]) -> list[Any]:
        if method in _TOKENLESS or not method.startswith("aria2.") or not self._secret:
            return list(params)
        return [f"token:{self._secret}", *params]

    def _next_id(self) -> int:
        with self._id_lock:
            return next(self._ids)

    def _post(
        self, method: str, params: list[Any], timeout: float | None, memo: LeafMemo | None = None
    ) -> Any:
        payload = {"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": params}
        wait = self.timeout if timeout is None else timeout
        requests = load_requests()  # imported once, then a look-up

        try:
            response = self._http().post(self.url, json=payload, timeout=wait)
        except requests.Timeout as exc:
            raise RpcConnectionError(
                f"aria2 at {self.endpoint} did not answer {method} within {wait:g} s"
            ) from exc
        except requests.ConnectionError as exc:
            raise RpcConnectionError(
                f"cannot connect to aria2 at {self.endpoint} ({method}): "
                "connection refused or reset; is aria2c running?"
            ) from exc
        except requests.RequestException as exc:
            raise RpcConnectionError(f"RPC to aria2 at {self.endpoint} failed: {exc}") from exc
        try:
            # In pieces: a refresh of 10,000 downloads is MBs of JSON (json_pieces.py).
            body = loads_in_pieces(response.content.decode("utf-8"), memo=memo)  # JSON is UTF-8
        except ValueError as exc:
            raise RpcConnectionError(
                f"{self.endpoint} answered {method} with HTTP {response.status_code} "
                "and no JSON: this is not aria2's RPC port"
            ) from exc
        if not isinstance(body, dict) or ("result" not in body and "error" not in body):
            raise RpcConnectionError(
                f"{self.endpoint} answered {method} with JSON that is not JSON-RPC"
            )
        if "error" in body:
            raise _error_from(body["error"], method)
        return body["result"]

    def call(self, method: str, *params: Any, timeout: float | None = None) -> Any:
        """Call ``method`` with ``params`` and return aria2's ``result``.

        The token is added here, so callers pass only the method's own
        parameters. ``timeout`` overrides the client's default for one call
        (a large ``addTorrent`` or a ``saveSession`` on a slow disk).
        """
        return self._post(method, self._with_token(method, params), timeout)

    def multicall(
        self, calls: Sequence[Call], timeout: float | None = None, memo: LeafMemo | None = None
    ) -> list[Any]:
        """Run ``calls`` in one round trip; failures come back in place, not raised.

        Each element of the answer is the call's result or an
        :class:`RpcError` instance, so one bad link in a batch of fifty does
        not hide the other forty-nine. A failure of the multicall itself (the
        connection, a malformed request) is still raised. ``memo`` converts
        the objects inside each result list (``json_pieces.LeafMemo``): the
        rows of ``tellActive``/``tellWaiting``/``tellStopped``.
        """
        if not calls:
            return []
        inner = [
            {"methodName": method, "params": self._with_token(method, params)}
            for method, params in calls
        ]
        answers = self._post("system.multicall", [inner], timeout, memo)
        results: list[Any] = []
        for (method, _params), answer in zip(calls, answers, strict=True):
            if isinstance(answer, list) and len(answer) == 1:
                results.append(answer[0])
            elif isinstance(answer, dict) and "code" in answer:
                results.append(_error_from(answer, method))
            else:
                results.append(RpcError(-1, f"unexpected multicall answer {answer!r}", method))
        return results

    # -- adding ----------------------------------------------------------------
    def add_uri(
        self, uris: Sequence[str], options: Options | None = None, position: int | None = None
    ) -> str:
        """Add one download from ``uris`` (mirrors of one file, or one magnet); return its GID."""
        return str(self.call("aria2.addUri", *_add_params(list(uris), options, position)))

    def add_torrent(
        self,
        path: str | Path,
        options: Options | None = None,
        position: int | None = None,
        web_seeds: Sequence[str] = (),
    ) -> str:
        """Add the .torrent file at ``path`` (sent as base64, so aria2 need not see it)."""
        params = _add_params(_file_base64(path), options, position)
        params.insert(1, list(web_seeds))
        return str(self.call("aria2.addTorrent", *params))

    def add_metalink(
        self, path: str | Path, options: Options | None = None, position: int | None = None
    ) -> list[str]:
        """Add the metalink at ``path``; a metalink can describe several files, hence GIDs."""
        result = self.call("aria2.addMetalink", *_add_params(_file_base64(path), options, position))
        return [str(gid) for gid in result]

    # -- querying --------------------------------------------------------------
    def get_version(self) -> dict[str, Any]:
        return self.call("aria2.getVersion")

    def tell_status(self, gid: str, keys: Sequence[str] | None = None) -> dict[str, Any]:
        return self.call("aria2.tellStatus", gid, *_keys(keys))

    def tell_active(self, keys: Sequence[str] | None = None) -> list[dict[str, Any]]:
        return self.call("aria2.tellActive", *_keys(keys))

    def tell_waiting(
        self, offset: int, num: int, keys: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        return self.call("aria2.tellWaiting", offset, num, *_keys(keys))

    def tell_stopped(
        self, offset: int, num: int, keys: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        return self.call("aria2.tellStopped", offset, num, *_keys(keys))

    def get_files(self, gid: str) -> list[dict[str, Any]]:
        return self.call("aria2.getFiles", gid)

    def get_uris(self, gid: str) -> list[dict[str, Any]]:
        return self.call("aria2.getUris", gid)

    def get_peers(self, gid: str) -> list[dict[str, Any]]:
        return self.call("aria2.getPeers", gid)

    def get_global_stat(self) -> dict[str, Any]:
        return self.call("aria2.getGlobalStat")

    def get_global_option(self) -> dict[str, Any]:
        return self.call("aria2.getGlobalOption")

    def get_option(self, gid: str) -> dict[str, Any]:
        return self.call("aria2.getOption", gid)

    # -- changing --------------------------------------------------------------
    def change_global_option(self, options: Options) -> str:
        return self.call("aria2.changeGlobalOption", stringify_options(options))

    def change_option(self, gid: str, options: Options) -> str:
        return self.call("aria2.changeOption", gid, stringify_options(options))

    def change_position(self, gid: str, pos: int, how: str = POS_SET) -> int:
        """Move ``gid`` in the waiting queue; ``how`` is POS_SET, POS_CUR or POS_END."""
        if how not in (POS_SET, POS_CUR, POS_END):
            raise ValueError(f"how must be POS_SET, POS_CUR or POS_END, not {how!r}")
        return int(self.call("aria2.changePosition", gid, int(pos), how))

    def pause(self, gid: str) -> str:
        return self.call("aria2.pause", gid)

    def force_pause(self, gid: str) -> str:
        return self.call("aria2.forcePause", gid)

    def unpause(self, gid: str) -> str:
        return self.call("aria2.unpause", gid)

    def pause_all(self) -> str:
        return self.call("aria2.pauseAll")

    def force_pause_all(self) -> str:
        return self.call("aria2.forcePauseAll")

    def unpause_all(self) -> str:
        return self.call("aria2.unpauseAll")

    def remove(self, gid: str) -> str:
        return self.call("aria2.remove", gid)

    def force_remove(self, gid: str) -> str:
        return self.call("aria2.forceRemove", gid)

    def remove_download_result(self, gid: str) -> str:
        return self.call("aria2.removeDownloadResult", gid)

    def purge_download_result(self) -> str:
        return self.call("aria2.purgeDownloadResult")

    # -- lifecycle -------------------------------------------------------------
    def save_session(self, timeout: float | None = None) -> str:
        """Write aria2's ``--save-session`` file now; "OK", or RpcError when none is set.

        On Windows a save fails while another process holds the file (an
        antivirus scanning what aria2c rewrites every second). aria2c's own
        periodic save does not retry: it marks the session saved before it
        writes, so the file would stay stale until the queue changes. This
        save is retried, with backoff, for up to ``SHARING_WAIT_S``.
        """
        deadline = time.monotonic() + SHARING_WAIT_S
        pause = 0.01
        while True:
            try:
                return str(self.call("aria2.saveSession", timeout=timeout))
            except RpcError as exc:
                failed_write = "Failed to serialize session" in exc.message
                if sys.platform != "win32" or not failed_write or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def shutdown(self) -> str:
        return self.call("aria2.shutdown")

    def force_shutdown(self) -> str:
        return self.call("aria2.forceShutdown")


def _keys(keys: Sequence[str] | None) -> list[list[str]]:
    """The optional trailing ``keys`` parameter: absent when the caller wants everything."""
    return [list(keys)] if keys else []


def _error_from(error: Any, method: str) -> RpcError:
    """Build the typed exception for an aria2 error object."""
    if not isinstance(error, dict):
        return RpcError(-1, f"malformed error object {error!r}", method)
    try:
        code = int(error.get("code", -1))
    except (TypeError, ValueError):
        code = -1
    message = str(error.get("message", ""))
    if code == 1 and message == UNAUTHORIZED_MESSAGE:
        return RpcUnauthorizedError(
            code, "Unauthorized (the RPC secret is missing or wrong)", method
        )
    return RpcError(code, message, method)

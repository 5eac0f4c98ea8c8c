"""``requests`` for a loopback JSON-RPC client, without what such a client never uses.

A plain ``import requests`` also loads, for features our RPC never touches:

* **character detection** (charset_normalizer, or chardet): 2.5 MB at rest,
  used only by ``Response.apparent_encoding``, i.e. by ``.text`` of a body
  whose headers name no charset. :mod:`aria2_core.rpc` decodes aria2's JSON
  as UTF-8 itself. Kept out while requests imports, it is then put back
  behind :class:`_DetectOnFirstUse`, which imports the library the first
  time a body needs guessing: ``.text`` and ``.json()`` answer as before.
* **TLS** (``ssl``, and with it OpenSSL): 1.3 MB plus libcrypto. requests,
  urllib3 and http.client take it if it is there, for https. aria2's RPC
  here is plain http on 127.0.0.1, so in a process that imported requests
  through :func:`load` an ``https://`` URL raises urllib3's ``ImportError``
  "Can't connect to HTTPS URL because the SSL module is not available".

If requests is already imported (another part of the process did it),
:func:`load` returns it as it is. Modules are kept out by a ``None`` in
``sys.modules`` for the duration of the import only (Python's own way to
make an import fail), then removed, so a later ``import ssl`` anywhere works.
"""

from __future__ import annotations

import importlib
import sys
import threading
import warnings
from types import ModuleType
from typing import Any

# Modules requests imports only for encoding detection or https.
KEPT_OUT = ("charset_normalizer", "chardet", "ssl", "_ssl")
# requests warns at import when it finds no detection library; here that is by design.
_NO_DETECTION_WARNING = r"Unable to find acceptable character detection dependency"

_lock = threading.Lock()


class _DetectOnFirstUse:
    """Stands in for requests' ``chardet`` (``compat.chardet``, ``models.chardet``).

    requests calls only ``chardet.detect(content)["encoding"]``. The library is
    the one requests itself would pick (chardet, else charset_normalizer); with
    neither installed the answer is requests' own fallback, UTF-8.
    """

    def __init__(self) -> None:
        self._library: ModuleType | None = None
        self._looked = False

    def detect(self, byte_str: bytes) -> dict[str, Any]:
        if not self._looked:
            for name in ("chardet", "charset_normalizer"):
                try:
                    self._library = importlib.import_module(name)
                    break
                except ImportError:
                    continue
            self._looked = True
        if self._library is None:
            return {"encoding": "utf-8"}
        result: dict[str, Any] = self._library.detect(byte_str)
        return result


def load() -> ModuleType:
    """The ``requests`` module, imported without :data:`KEPT_OUT` if it is not yet loaded.

    Thread-safe: the RPC worker and a readiness probe may both get here first.
    """
    with _lock:
        already = sys.modules.get("requests")
        if already is not None:
            return already
        blocked = [name for name in KEPT_OUT if name not in sys.modules]
        for name in blocked:
            sys.modules[name] = None  # type: ignore[assignment]  # "import X" raises ImportError
        warnings.filterwarnings("ignore", message=_NO_DETECTION_WARNING, module="requests")
        try:
            import requests
            import requests.compat
            import requests.models
        finally:
            for name in blocked:
                if sys.modules.get(name, False) is None:
                    del sys.modules[name]
        # Not in requests' type stubs: both modules hold the detector as ``chardet``.
        if getattr(requests.compat, "chardet", None) is None:
            detection = _DetectOnFirstUse()
            setattr(requests.compat, "chardet", detection)  # noqa: B010
            setattr(requests.models, "chardet", detection)  # noqa: B010
        return requests

"""Aria Tray's desktop layer: the command line, the primary instance, the Qt UI.

Every way of starting the app (``main.py``, the ``aria-tray`` command, the
frozen build, the browser's native host) imports this package first, so the
one process-wide choice below is made before anything else is imported.

**No OpenSSL.** ``hashlib`` takes its hashes from OpenSSL's libcrypto when
``_hashlib`` imports, and that maps 3.5 MB into the process for good (issue
11, item 3). The app hashes only small things (a home path for the IPC
name, a torrent's info for duplicates and checks; urllib3 and filelock
import hashlib too), and CPython's own implementations of MD5, SHA-1, SHA-2
and BLAKE2 serve those. With ``_hashlib`` blocked, hashlib and hmac fall
back to them by design. TLS stays out as well (see
``aria2_core.lean_requests``). A process that imported hashlib before this
package (a test runner) keeps OpenSSL's.
"""

import sys

if "hashlib" not in sys.modules:
    sys.modules.setdefault("_hashlib", None)  # type: ignore[arg-type]  # import fails, on purpose

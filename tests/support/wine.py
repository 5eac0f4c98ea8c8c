"""Running under Wine (the Windows suite on Linux: make test-windows), and its known limits.

A test that cannot run under Wine is marked ``@wine_limit("why")``: the reason names
what Wine does not do, and the test still runs on real Windows and on Linux.
"""

from __future__ import annotations

import sys

import pytest


def _under_wine() -> bool:
    """Wine keeps its own settings under HKLM\\Software\\Wine; Windows has no such key."""
    if sys.platform != "win32":
        return False
    import winreg

    try:
        winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"Software\Wine").Close()
    except OSError:
        return False
    return True


UNDER_WINE = _under_wine()

#: How much longer a start-up may take: under Wine each Windows process starts in 0.5-2 s
#: and the app's first start (Qt, aria2c.exe) in several, more on a loaded 2-core host.
WINE_SLOWDOWN = 3.0 if UNDER_WINE else 1.0


def patience(seconds: float) -> float:
    """A readiness wait's bound for this platform (never for a timing acceptance check)."""
    return seconds * WINE_SLOWDOWN


def wine_limit(reason: str) -> pytest.MarkDecorator:
    """Skip under Wine only, saying which Wine limit stops the test."""
    return pytest.mark.skipif(UNDER_WINE, reason=f"Wine limit: {reason}")

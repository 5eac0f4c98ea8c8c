"""A tray-only session at rest carries only what it uses (issue 11, item 3).

The primary is started as at login (first run done, so no window) on a real
X server with a tray, and left alone until its start-up heap is frozen: the
engine is up, the icon shows, nothing was opened. Then, from outside:

* every module it loaded, from ``PYTHONVERBOSE=1`` (stderr, a file, written as
  each module loads, so it is read while the app runs; an import that fails
  prints nothing there);
* every shared library it mapped, from ``/proc/<pid>/maps`` (the only list a
  frozen build gives: its bootloader ignores ``PYTHONVERBOSE``).

Neither list may hold what such a session never uses: the window and the
dialogs (built on first use), the HTML parser (for a browser's drag),
requests' character detection (our RPC decodes aria2's JSON as UTF-8
itself), TLS (the RPC is plain http on 127.0.0.1) and
OpenSSL's libcrypto (hashes come from Python's own implementations). The
engine works all along: ``--status`` answers from a ready aria2c.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.app_process import AppHome, is_frozen_target, wait_until
from support.xserver import XServer, tray_server

pytestmark = [pytest.mark.e2e, pytest.mark.tray]

WM_CLASS = "aria-tray"
FROZEN_MARK = "start-up heap frozen"

# Imported only when the user opens or drops something (never, in a tray-only session).
UI_ON_DEMAND = (
    "desktop.main_window",
    "desktop.settings_dialog",
    "desktop.add_dialog",
    "desktop.details_pane",
    "desktop.download_table",
    "desktop.download_model",
    "html.parser",  # reads the HTML of a browser drag, on the first one
)
# What a loopback JSON-RPC client over requests does not need.
NOT_FOR_LOOPBACK_RPC = ("charset_normalizer", "chardet", "ssl", "_ssl", "_hashlib")
# Shared libraries (file name starts) that must not be mapped at rest.
LIBRARIES_KEPT_OUT = ("libcrypto.", "libssl.")


@pytest.fixture
def xserver() -> Iterator[XServer]:
    with tray_server() as server:
        yield server


def loaded_modules(verbose_log: Path) -> set[str]:
    """Modules Python's verbose mode reports as loaded: ``import 'name' # <loader>``."""
    found = re.finditer(r"^import '([\w.]+)' #", verbose_log.read_text(errors="replace"), re.M)
    return {match.group(1) for match in found}


def mapped_libraries(pid: int) -> set[str]:
    names = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith("/"):
            names.add(Path(fields[5]).name)
    return names


def test_hidden_tray_session_at_rest_loads_only_what_it_uses(
    app_home: AppHome, xserver: XServer
) -> None:
    app_home.mark_first_run_done()
    app_home.extra_env.update(xserver.env())
    app_home.extra_env["PYTHONVERBOSE"] = "1"
    verbose_log = app_home.home / "verbose.txt"
    with open(verbose_log, "wb") as err:
        primary = app_home.launch(stderr=err)
    status = app_home.wait_ready()
    assert status["engine_state"] == "ready"
    wait_until(lambda: xserver.tray_icons(WM_CLASS), 20)
    wait_until(lambda: FROZEN_MARK in app_home.log_text(), 20)
    assert primary.poll() is None, "the primary died"

    if not is_frozen_target():  # PyInstaller's bootloader ignores PYTHONVERBOSE
        modules = loaded_modules(verbose_log)
        assert "requests" in modules, "the RPC client did not load requests: the probe is broken"
        assert "desktop.tray" in modules
        loaded = sorted(m for m in (*UI_ON_DEMAND, *NOT_FOR_LOOPBACK_RPC) if m in modules)
        assert loaded == []
    libraries = mapped_libraries(primary.pid)
    assert any(re.match(r"libQt6Widgets\.so", name) for name in libraries)
    assert sorted(n for n in libraries if n.startswith(LIBRARIES_KEPT_OUT)) == []

    # Still a working app: the engine answers, and --quit ends it cleanly.
    assert app_home.run("--status").returncode == 0
    assert app_home.run("--quit").returncode == 0
    assert primary.wait(30) == 0

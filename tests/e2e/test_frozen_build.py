"""What only a frozen build can get wrong, checked on the build ``make test-dist`` made.

The lifecycle suite runs against the frozen executable as well (via
``ARIA_TRAY_LAUNCH``); this module adds what is specific to a PyInstaller
bundle:

* the bundle holds what the app needs (aria2c, resources, the Qt platform
  and SVG icon plugins) and not the Qt modules it excludes;
* the aria2c that runs is the bundled one, not the system's;
* aria2c gets a clean environment: the user's ``LD_LIBRARY_PATH`` back
  (PyInstaller's bootloader prepends the bundle), no ``_PYI_*`` variables;
* it runs with no Python anywhere on ``PATH``.

Two checks run against either target, because both ship: a launch with no
standard streams at all (a windowed app's ``sys.stderr is None``) logs to
its file and works, and the SVG tray icon really renders under Xvfb.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from e2e_support import counts, start_primary

from support.app_process import AppHome, is_frozen_target, launch_command, wait_until
from support.platforms import only_on
from support.xserver import XServer, tray_server

pytestmark = pytest.mark.e2e

frozen_only = pytest.mark.frozen_only
linux_only = only_on("linux", "the Linux bundle (AppImage-style folder, .desktop)")

EXE_NAME = "AriaTray.exe" if sys.platform == "win32" else "AriaTray"
ARIA2C_NAME = "aria2c.exe" if sys.platform == "win32" else "aria2c"
WM_CLASS = "aria-tray"
INFO_HASH = "5b1e2c4f0a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f"


def bundle_dir() -> Path:
    return Path(launch_command()[0]).resolve().parent


def internal_dir() -> Path:
    return bundle_dir() / "_internal"


def info_hashes(home: AppHome) -> set[str]:
    with home.rpc() as client:
        tasks = client.tell_active(["infoHash"]) + client.tell_waiting(0, 100, ["infoHash"])
    return {task.get("infoHash", "") for task in tasks}


def aria2c_of(home: AppHome) -> psutil.Process:
    (proc,) = home.aria2c_processes()
    return proc


@frozen_only
def test_the_bundle_holds_what_the_app_needs_and_not_what_it_excludes() -> None:
    internal = internal_dir()
    assert Path(launch_command()[0]).name == EXE_NAME
    assert (internal / "aria2c" / ARIA2C_NAME).is_file()
    assert (internal / "resources" / "icons" / "aria-tray.svg").is_file()
    assert (internal / "resources" / "browser" / "manifest.json").is_file()  # load unpacked
    # Qt's own catalog for its dialogs (issue 9, item 26), next to ours.
    assert (internal / "resources" / "translations" / "aria_tray_zh_CN.qm").is_file()
    # (PySide6's Windows wheels keep Qt's files in PySide6\, the Linux ones in PySide6/Qt/.)
    qt_dir = internal / "PySide6" if sys.platform == "win32" else internal / "PySide6" / "Qt"
    assert (qt_dir / "translations" / "qtbase_zh_CN.qm").is_file()
    files = {p.relative_to(internal).as_posix() for p in internal.rglob("*") if p.is_file()}
    names = {Path(f).name for f in files}
    plugins = {f.split("plugins/", 1)[1] for f in files if "/plugins/" in f}
    folders = {p.split("/")[0] for p in plugins}

    assert any(p.startswith("iconengines/") and "qsvgicon" in p for p in plugins), plugins
    assert any("qoffscreen" in p for p in plugins), plugins
    if sys.platform.startswith("linux"):
        assert any("qxcb" in p for p in plugins), plugins
        assert any("qwayland" in p for p in plugins), plugins
        assert any("xdg-shell" in p for p in plugins), plugins
    # Left out on purpose (build.spec): OpenGL integrations, evdev, TLS, the GTK theme.
    left_out = {"xcbglintegrations", "egldeviceintegrations", "generic", "tls"}
    left_out.add("wayland-graphics-integration-client")
    assert not folders & left_out, folders
    assert not any("gtk3" in p for p in plugins), plugins
    for module in ("Qml", "Quick", "Pdf", "VirtualKeyboard", "Multimedia", "WebEngineCore"):
        assert not any(f"Qt6{module}" in n or f"Qt{module}." in n for n in names), module
    # PyInstaller 6 links duplicates with symlinks on POSIX: count each file once.
    real = [internal / f for f in files if not (internal / f).is_symlink()]
    size = sum(path.stat().st_size for path in real)
    print(f"onedir bundle: {size / 2**20:.0f} MiB in {len(real)} files")


@frozen_only
@pytest.mark.windows
@only_on("win32", "the MSVC runtime DLLs")
def test_each_wheel_keeps_its_own_msvc_runtime() -> None:
    """PySide6 and shiboken6 each ship MSVCP140.dll; build.spec once kept only shiboken6's."""
    internal = internal_dir()
    for package in ("PySide6", "shiboken6"):
        for dll in ("MSVCP140.dll", "VCRUNTIME140.dll"):
            wheel_copy = Path(importlib.util.find_spec(package).origin).parent / dll
            if wheel_copy.is_file():
                assert (internal / package / dll).is_file(), f"{package}\\{dll} was dropped"


@frozen_only
@linux_only
def test_every_bundled_library_finds_its_dependencies() -> None:
    """build.spec drops libraries nothing links; ldd proves nothing needed went too.

    Libraries PyInstaller never bundles by design (libc, libwayland-*, libGL,
    ...) come from the user's system and may be absent on a build host.
    """
    from PyInstaller.depend.dylib import include_library

    internal = internal_dir()
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    missing = {}
    for path in sorted(internal.rglob("*.so*")):
        if path.is_symlink() or not path.is_file() or path.name.startswith("libicudata"):
            continue
        out = subprocess.run(["ldd", str(path)], env=env, capture_output=True, text=True)
        lost = [
            line.split()[0]
            for line in out.stdout.splitlines()
            if "not found" in line and include_library(line.split()[0])
        ]
        if lost:
            missing[str(path.relative_to(internal))] = lost
    assert not missing, missing


@frozen_only
def test_the_bundled_aria2c_is_the_one_that_runs(app_home: AppHome) -> None:
    start_primary(app_home)
    proc = aria2c_of(app_home)
    # setpriv execs aria2c in place, so the command line names the binary itself.
    binary = Path(proc.cmdline()[0]).resolve()
    assert binary == (internal_dir() / "aria2c" / ARIA2C_NAME).resolve()
    assert bundle_dir() in binary.parents
    assert shutil.which("aria2c") is None or binary != Path(shutil.which("aria2c")).resolve()


@frozen_only
@linux_only
@pytest.mark.parametrize("user_value", [None, "/opt/aria-tray-test/lib"])
def test_aria2c_gets_the_users_environment_not_the_bootloaders(
    app_home: AppHome, user_value: str | None
) -> None:
    env = app_home.env()
    env.pop("LD_LIBRARY_PATH", None)
    if user_value is not None:
        env["LD_LIBRARY_PATH"] = user_value
    proc = subprocess.Popen(
        launch_command(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    app_home.launched.append(proc)
    app_home.wait_ready()

    # The bootloader really did put the bundle on the app's own library path...
    app_env = psutil.Process(proc.pid).environ()
    assert str(internal_dir()) in app_env.get("LD_LIBRARY_PATH", "")
    # ...and aria2c (/proc/<pid>/environ) got the user's value back, and nothing of ours.
    aria_env = aria2c_of(app_home).environ()
    assert aria_env.get("LD_LIBRARY_PATH") == user_value
    assert "LD_LIBRARY_PATH_ORIG" not in aria_env
    assert not [name for name in aria_env if name.startswith("_PYI_")]
    assert "ARIA_TRAY_HOME" not in aria_env


def python_free_path(tmp_path: Path) -> str:
    """A PATH holding only setpriv (for the parent-death signal): no interpreter, no venv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    setpriv = shutil.which("setpriv")
    if setpriv and not (bin_dir / "setpriv").exists():
        (bin_dir / "setpriv").symlink_to(setpriv)
    return str(bin_dir)


@frozen_only
@linux_only
def test_runs_with_no_python_on_path(app_home: AppHome, tmp_path: Path) -> None:
    app_home.extra_env["PATH"] = python_free_path(tmp_path)
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        app_home.extra_env[name] = ""

    primary, _ = start_primary(app_home)
    assert counts(app_home) == (1, 1)
    assert Path(aria2c_of(app_home).cmdline()[0]).resolve().is_relative_to(bundle_dir())

    # A magnet link stays in aria2's queue (it has no peers), so it can be seen there.
    forwarded = app_home.run(f"magnet:?xt=urn:btih:{INFO_HASH}&dn=no-python")
    assert forwarded.returncode == 0, forwarded.stderr
    wait_until(lambda: INFO_HASH in info_hashes(app_home), 15)
    assert counts(app_home) == (1, 1)

    assert app_home.run("--quit").returncode == 0
    assert primary.wait(15) == 0
    assert counts(app_home) == (0, 0)


@linux_only
def test_without_standard_streams_it_logs_to_its_file(app_home: AppHome) -> None:
    """Like a windowed build (``sys.stdout``/``sys.stderr`` None): fds 0-2 closed."""
    closed = ["sh", "-c", 'exec "$@" <&- >&- 2>&-', "sh", *launch_command()]
    proc = subprocess.Popen(closed, env=app_home.env())
    app_home.launched.append(proc)

    status = app_home.wait_ready()
    assert status["app_pid"] == proc.pid  # the shell exec'd the app in place
    assert "primary started" in app_home.log_text()

    result = app_home.run("--quit")
    assert result.returncode == 0, result.stderr
    assert proc.wait(15) == 0
    assert counts(app_home) == (0, 0)
    assert "exited with code 0" in app_home.log_text()


@pytest.fixture
def xserver() -> Iterator[XServer]:
    with tray_server() as server:
        yield server


def _distinct_colours(image: Path) -> int:
    out = subprocess.run(
        ["convert", str(image), "-format", "%k", "info:"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return int(out.stdout.strip())


@pytest.mark.tray
def test_the_svg_tray_icon_renders(app_home: AppHome, xserver: XServer, tmp_path: Path) -> None:
    """Under Xvfb + trayer, with no Python on PATH: one app, one aria2c, a visible icon.

    The icon is an SVG: without Qt's SVG plugins the tray slot stays blank.
    """
    if shutil.which("convert") is None:
        pytest.skip("ImageMagick's convert is needed to count colours")
    app_home.extra_env.update(xserver.env())
    app_home.extra_env["PATH"] = python_free_path(tmp_path)  # frozen or not, none is needed
    app_home.launch()
    app_home.wait_ready()
    assert counts(app_home) == (1, 1)
    if is_frozen_target():
        binary = Path(aria2c_of(app_home).cmdline()[0]).resolve()
        assert binary == (internal_dir() / "aria2c" / ARIA2C_NAME).resolve()
    (icon,) = wait_until(lambda: xserver.tray_icons(WM_CLASS), timeout=20)
    info = xserver.window_info(icon)
    assert info is not None and info.viewable

    def rendered() -> int:
        shot = xserver.screenshot(tmp_path / "tray-icon.png", crop=info)
        return _distinct_colours(shot)

    # trayer paints a flat white slot; the icon brings its colours and antialiasing.
    colours = wait_until(lambda: (c := rendered()) >= 16 and c, timeout=10)
    print(f"tray icon {info.width}x{info.height}: {colours} colours")
    result = app_home.run("--quit", timeout=30)
    assert result.returncode == 0, result.stderr
    assert counts(app_home) == (0, 0)

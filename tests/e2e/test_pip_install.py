"""What ``pip install .`` really installs (issue 9, item 27).

The wheel is built from this checkout by pip, unpacked the way pip installs
it, and run by a Python that sees only the unpacked wheel and the
dependencies (``-S``: no site hooks, so the checkout's editable install
cannot stand in for it; the working directory is elsewhere). The proofs:
one top-level name, ``aria_tray``, no generic ``desktop``; the ``aria-tray``
entry point starts; and the app's modules, icons and catalogs are the
installed ones, not the checkout's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from support.app_process import REPO

# Building the wheel alone may take up to its own 300 s: more than the default per test.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.source_only,
    pytest.mark.timeout(600),
]

PROBE = """
import sys
sys.argv = ["aria-tray", "--version"]
from aria_tray.launcher import main
try:
    code = main()
except SystemExit as done:  # argparse's --version exits
    code = done.code
import desktop, aria2_core
from desktop.resources import icon_path, resources_dir
from desktop.i18n import translations_dir
print("FILES", desktop.__file__, aria2_core.__file__, resources_dir(), icon_path().is_file(),
      sorted(p.name for p in translations_dir().glob("*.qm")))
sys.exit(code)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(REPO), "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # setuptools' complaints (the license table, data folders as packages) are gone.
    assert "Warning" not in result.stderr, result.stderr
    (built,) = out.glob("aria_tray-*.whl")
    return built


def test_the_wheel_installs_one_name_and_a_working_aria_tray(wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "site")
        entry_points = archive.read(
            next(n for n in names if n.endswith("entry_points.txt"))
        ).decode()
    top = {name.split("/")[0] for name in names}
    assert top == {"aria_tray", next(t for t in top if t.endswith(".dist-info"))}, top
    assert "aria-tray = aria_tray.launcher:main" in entry_points

    site = tmp_path / "site"
    deps = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), deps])}
    result = subprocess.run(
        [sys.executable, "-S", "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Aria Tray "), result.stdout
    files = result.stdout.split("FILES ", 1)[1]
    installed = str(site / "aria_tray")
    desktop_file, core_file, resources, has_icon, catalogs = files.split(" ", 4)
    assert desktop_file.startswith(installed) and core_file.startswith(installed)
    assert resources.startswith(installed) and has_icon == "True"
    assert "aria_tray_zh_CN.qm" in catalogs

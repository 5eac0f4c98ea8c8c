"""Packaging facts every way of shipping relies on (PyInstaller, pip, source).

The Windows version resource can only be compiled on Windows, so its text
is checked here on every platform: it must parse as PyInstaller's
``VSVersionInfo(...)`` expression and carry ``aria2_core.__version__``.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from aria2_core import __version__
from desktop.resources import icon_path, resources_dir

REPO = Path(__file__).resolve().parents[2]
VERSION_FILE = REPO / "resources" / "windows" / "version_info.txt"


def _calls(node: ast.AST, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
    ]


def test_windows_version_info_parses_and_carries_the_package_version() -> None:
    tree = ast.parse(VERSION_FILE.read_text(encoding="utf-8"), mode="eval")
    assert isinstance(tree.body, ast.Call) and tree.body.func.id == "VSVersionInfo"  # type: ignore[attr-defined]

    numbers = tuple(int(part) for part in __version__.split("."))
    expected = numbers + (0,) * (4 - len(numbers))
    (ffi,) = _calls(tree, "FixedFileInfo")
    fixed = {kw.arg: ast.literal_eval(kw.value) for kw in ffi.keywords}
    assert fixed["filevers"] == expected
    assert fixed["prodvers"] == expected

    strings = {
        ast.literal_eval(call.args[0]): ast.literal_eval(call.args[1])
        for call in _calls(tree, "StringStruct")
    }
    assert strings["FileVersion"] == __version__
    assert strings["ProductVersion"] == __version__
    assert strings["OriginalFilename"] == "AriaTray.exe"


@pytest.mark.parametrize("suffix", [".svg", ".png", ".ico"])
def test_the_bundled_icons_are_found(suffix: str) -> None:
    assert icon_path(suffix=suffix).is_file()
    assert icon_path(suffix=suffix).parent.parent == resources_dir()


def test_pip_installs_resources_as_package_data() -> None:
    """``pip install .`` must carry every icon; desktop.resources looks them up there.

    tests/e2e/test_pip_install.py builds and runs the real wheel.
    """
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    assert setuptools["package-dir"]["aria_tray.resources"] == "resources"
    shipped = set()
    for folder in ("icons", "translations"):
        package = f"aria_tray.resources.{folder}"
        assert package in setuptools["packages"]
        for pattern in setuptools["package-data"][package]:
            shipped |= {
                p.relative_to(REPO / "resources")
                for p in (REPO / "resources" / folder).glob(pattern)
            }
    icons = {p.relative_to(REPO / "resources") for p in (REPO / "resources" / "icons").iterdir()}
    assert icons <= shipped
    assert any(p.suffix == ".qm" for p in shipped)

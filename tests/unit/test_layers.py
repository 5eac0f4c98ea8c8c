"""The layering rule: ``aria2_core`` never imports Qt, directly or indirectly.

Checked two ways: statically (no import statement names a Qt binding) and
dynamically (importing every module in a fresh interpreter loads no Qt).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "aria2_core"
QT_PACKAGES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "PySide2")


def _core_modules() -> list[str]:
    return sorted(f"aria2_core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__")


def test_core_has_modules() -> None:
    assert "aria2_core.rpc" in _core_modules()


def test_no_qt_import_statement_in_core() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in QT_PACKAGES]
    assert offenders == []


def test_importing_core_loads_no_qt() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {_core_modules()!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {QT_PACKAGES!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=CORE.parent
    )
    assert json.loads(out.stdout) == []


def test_forwarding_path_imports_no_widgets_or_requests() -> None:
    """A second launch must stay lean: the CLI module pulls in neither."""
    code = (
        "import json, sys\n"
        "import desktop.cli\n"
        "print(json.dumps([m for m in ('PySide6.QtWidgets', 'requests', 'PySide6.QtCore')"
        " if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=CORE.parent
    )
    loaded = json.loads(out.stdout)
    assert "PySide6.QtWidgets" not in loaded
    assert "requests" not in loaded
    if sys.platform != "win32":
        assert "PySide6.QtCore" not in loaded

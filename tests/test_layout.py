"""Imports flow one way: the application (analysis, reporting, calibration, the CLI) imports
the simulation core, never the reverse."""

import ast
from pathlib import Path

from model.paths import PROJECT_ROOT

APPLICATION = ("model.analysis", "model.reporting", "model.calibration", "model.cli",
               "model.dashboard")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_core_never_imports_the_application():
    core = [p for p in (PROJECT_ROOT / "model").glob("*.py") if p.name != "cli.py"]
    core += list((PROJECT_ROOT / "model" / "mechanisms").glob("*.py"))
    offenders = {p.name: sorted(m for m in imported_modules(p) if m.startswith(APPLICATION))
                 for p in core}
    assert not {k: v for k, v in offenders.items() if v}

"""The engine is pure: no module of finops/allocation except runner.py imports I/O clients."""

from __future__ import annotations

import ast
from pathlib import Path

import finops.allocation

FORBIDDEN = {"duckdb", "boto3", "kubernetes", "httpx", "finops.warehouse", "requests"}
PACKAGE = Path(finops.allocation.__file__).parent


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_runner_does_io() -> None:
    modules = [p for p in PACKAGE.glob("*.py") if p.name != "runner.py"]
    assert len(modules) > 10
    for path in modules:
        bad = {n for n in imported(path) if n.split(".")[0] in FORBIDDEN or n in FORBIDDEN}
        assert not bad, f"{path.name} imports {bad}"
    assert "finops.warehouse" in imported(PACKAGE / "runner.py")

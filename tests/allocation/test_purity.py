"""The engine is pure, every module of it: frames in, frames out, no I/O, no threads.

Every module under finops/allocation (subpackages too) may import only what pure frame code
needs: the allowed standard modules, polars, its own package and the declarations in
``models``. No exemption: the orchestration that reads and writes lives in finops.pipeline.
Calls that reach files or the clock are refused as well, whatever module they come from.
"""

from __future__ import annotations

import ast
from pathlib import Path

import finops.allocation

PACKAGE = Path(finops.allocation.__file__).parent
ALLOWED = {"__future__", "collections", "dataclasses", "datetime", "enum", "functools",
           "itertools", "math", "operator", "re", "typing", "polars",
           "finops.allocation", "models.config", "models.errors", "models.schemas"}
# Names that reach outside the process even without an import (files, the clock, threads).
CALLS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "read_parquet",
         "scan_parquet", "read_csv", "scan_csv", "read_ipc", "write_parquet", "write_csv",
         "write_ipc", "sink_parquet", "now", "today", "utcnow", "Thread", "sleep"}


def imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


def allowed(name: str) -> bool:
    return any(name == ok or name.startswith(f"{ok}.") for ok in ALLOWED)


def called(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def modules() -> list[Path]:
    found = sorted(PACKAGE.rglob("*.py"))
    assert len(found) > 15
    return found


def test_every_engine_module_imports_only_pure_code() -> None:
    for path in modules():
        bad = {n for n in imported(ast.parse(path.read_text())) if not allowed(n)}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_no_engine_module_reads_files_or_the_clock() -> None:
    for path in modules():
        bad = called(ast.parse(path.read_text())) & CALLS
        assert not bad, f"{path.relative_to(PACKAGE)} calls {sorted(bad)}"


def test_the_checks_catch_what_they_look_for() -> None:
    """The scanners above see an I/O import and a file read when there is one."""
    tree = ast.parse("import duckdb\nfrom finops.warehouse import Warehouse\n"
                     "from pathlib import Path\nPath('x').read_text()\n")
    assert {n for n in imported(tree) if not allowed(n)} == {"duckdb", "finops.warehouse",
                                                             "pathlib"}
    assert called(tree) & CALLS == {"read_text"}

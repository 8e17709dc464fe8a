"""Markers are honest: ``integration`` is on exactly the tests that start a real server,
process or browser (uvicorn, moto, Prometheus, an HTTP stand-in, Chromium, a SQL worker
process, a subprocess), and on no pure test.

Read from the test code (AST), not run: a test starts something when its body, a helper of
its module or a fixture it asks for (followed through conftest.py files and the shared
plugins) names one of ``STARTERS``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).parent
PLUGINS = [TESTS / "support" / "browser.py", TESTS / "support" / "demo.py"]
STARTERS = frozenset({
    "subprocess", "Popen", "ServeProcess", "run_finops",  # processes, `finops serve`
    "measured",  # benchmarks.changed: a command in its own process, timed
    "ThreadedMotoServer", "moto_server", "backfill", "serve_http", "slack_server", "fake_apiserver",
    "RayHead", "ProcessRunner", "RayRunner",  # worker processes of the runners
    "bad_prometheus", "link_page", "sync_playwright",  # servers, stand-ins, Chromium
    "create_app", "Sandbox", "WorkerPool", "cli: sql",  # SQL worker processes
    "kustomize", "helm", "helm_example", "helm_fails",  # tests.support.manifests: kubectl, helm
})


def _cli_starts(words: set[object]) -> bool:
    """An in-process CLI command line that starts a process: a SQL worker (``sql``, ``report
    unowned``) or Chromium (``report showback`` unless ``--no-pdf``)."""
    return ("sql" in words or {"report", "unowned"} <= words
            or ({"report", "showback"} <= words and "--no-pdf" not in words))


Functions = dict[str, ast.FunctionDef]


def _names(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
        elif isinstance(child, ast.List) and _cli_starts(
                {e.value for e in child.elts if isinstance(e, ast.Constant)}):
            found.add("cli: sql")
    return found


def _is_fixture(fn: ast.FunctionDef) -> bool:
    return any("fixture" in _names(d) for d in fn.decorator_list)


def _functions(path: Path) -> tuple[ast.Module, Functions, Functions]:
    """The module, its fixtures and its other top-level functions."""
    tree = ast.parse(path.read_text())
    fns = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    return (tree, {f.name: f for f in fns if _is_fixture(f)},
            {f.name: f for f in fns if not _is_fixture(f)})


def _conftest_fixtures(path: Path) -> Functions:
    """A conftest's own fixtures and those it imports from ``tests.support``."""
    tree, fixtures, _ = _functions(path)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.support"):
            source = TESTS.parent / Path(*node.module.split("."))
            source = source / "__init__.py" if source.is_dir() else source.with_suffix(".py")
            shared = _functions(source)[1]
            fixtures.update({a.name: shared[a.name] for a in node.names if a.name in shared})
    return fixtures


def _visible_fixtures(module: Path) -> Functions:
    """Fixtures a test module may ask for, the nearest definition winning."""
    conftests = [d / "conftest.py" for d in reversed([module.parent, *module.parent.parents])
                 if d.is_relative_to(TESTS)]
    fixtures: Functions = {}
    for path in PLUGINS:
        fixtures.update(_functions(path)[1])
    for path in conftests:
        if path.exists():
            fixtures.update(_conftest_fixtures(path))
    return fixtures


def _starts(fn: ast.FunctionDef, fixtures: Functions, helpers: Functions,
            seen: frozenset[str] = frozenset()) -> bool:
    if fn.name in seen:
        return False
    seen = seen | {fn.name}
    names = _names(ast.Module(body=fn.body, type_ignores=[])) | {a.arg for a in fn.args.args}
    if names & STARTERS:
        return True
    called = [fixtures[n] for n in names if n in fixtures and fixtures[n] is not fn]
    called += [helpers[n] for n in names if n in helpers]
    return any(_starts(other, fixtures, helpers, seen) for other in called)


def _module_marked(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "pytestmark"
                                                 for t in n.targets)
               and "integration" in _names(n.value) for n in tree.body)


def dishonest(module: Path, placed: Path | None = None) -> Iterator[str]:
    """``module::test: why`` for each test whose mark does not say what it does; fixtures
    are looked up as for a module at ``placed`` (default: where it is)."""
    tree, own_fixtures, helpers = _functions(module)
    fixtures = {**_visible_fixtures(placed or module), **own_fixtures}
    whole = _module_marked(tree)
    for name, fn in helpers.items():
        if not name.startswith("test_"):
            continue
        marked = whole or any("integration" in _names(d) for d in fn.decorator_list)
        starts = _starts(fn, fixtures, helpers)
        if marked != starts:
            said = "starts a server or process, unmarked" if starts else "pure, marked"
            yield f"{module.name}::{name}: {said}"


def test_integration_marks_exactly_the_tests_that_start_something() -> None:
    found = [line for module in sorted(TESTS.rglob("test_*.py")) for line in dishonest(module)]
    assert found == []


def test_the_check_sees_a_server_started_through_a_fixture(tmp_path: Path) -> None:
    module = tmp_path / "test_example.py"
    module.write_text("import pytest\n\n\ndef test_bucket(s3_bucket):\n    pass\n\n\n"
                      "@pytest.mark.integration\ndef test_sum():\n    assert 1 + 1 == 2\n")
    beside_moto = TESTS / "ingestion" / "billing" / "test_s3.py"  # s3_bucket -> moto_endpoint
    assert list(dishonest(module, beside_moto)) == [
        "test_example.py::test_bucket: starts a server or process, unmarked",
        "test_example.py::test_sum: pure, marked"]

"""No ``$`` is written beside an amount anywhere money is shown: the currency comes from the
data and is written by ``models.currency`` (issue 13). Reads every string literal of the
application (and the SQL) for a dollar sign used as money: ``f"${x}"``, ``"$1.00"``,
``"($)"``, ``"Δ $"`` or a bare ``"$"``. SQL parameters (``$start``) and regex anchors are not
money. ``finops/synthetic`` is left out: it writes AWS's own charge descriptions
("$0.0225 per Network LoadBalancer-hour"), data as the bill carries it."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("finops", "dashboards", "models", "ingestion")
SKIPPED = (ROOT / "finops" / "synthetic",)
MONEY = re.compile(r"\$\{|\$\d|\(\$\)|Δ\s*\$|^\$\s?$")


def _python_files() -> list[Path]:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    return [p for p in files if not any(p.is_relative_to(s) for s in SKIPPED)]


def _docstrings(source: str) -> set[int]:
    """First lines of the docstrings (they may show what a format looks like)."""
    nodes = [n for n in ast.walk(ast.parse(source))
             if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)]
    firsts = [n.body[0] for n in nodes if n.body and isinstance(n.body[0], ast.Expr)]
    return {f.lineno for f in firsts
            if isinstance(f.value, ast.Constant) and isinstance(f.value.value, str)}


def _strings(path: Path) -> list[tuple[int, str]]:
    source = path.read_text()
    docs = _docstrings(source)
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    kinds = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    return [(t.start[0], t.string) for t in tokens if t.type in kinds and t.start[0] not in docs]


def _body(literal: str) -> str:
    """A string literal without its prefix and quotes."""
    return re.sub(r"^[rbfuRBFU]*('''|\"\"\"|'|\")(.*)\1$", r"\2", literal, flags=re.S)


def test_no_dollar_sign_is_written_beside_money() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {text}"
             for path in _python_files() for line, text in _strings(path)
             if MONEY.search(_body(text))]
    found += [f"{path.relative_to(ROOT)}:{n}: {text.strip()}"
              for path in (ROOT / "sql").rglob("*.sql")
              for n, text in enumerate(path.read_text().splitlines(), start=1)
              if re.search(r"\$\d", text)]
    assert found == [], "money shown with a `$` literal:\n" + "\n".join(found)


def test_the_check_finds_what_it_looks_for() -> None:
    """The pattern catches the forms issue 13 removed, and not SQL parameters or regexes."""
    for money in ('f"${total:,.2f}"', '"$"', '"($)"', '"Δ $"', '"$0.40 per hour"'):
        assert MONEY.search(_body(money)), money
    for fine in ('"day BETWEEN $start AND $end"', 'r"^(?:a|b)$"', '")$"', '"$start::DATE"'):
        assert not MONEY.search(_body(fine)), fine

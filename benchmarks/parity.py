"""Engine parity: the ``allocation`` table a baseline commit writes against the one this tree
writes, on copies of the same warehouse, under the warehouse's config and policy variants.

    python -m benchmarks.parity --db WAREHOUSE --start 2026-10-01 --end 2026-10-31
                                [--config finops.yaml] [--baseline REF] [--variant NAME ...]

The baseline is ``git archive REF`` unpacked under ``$TMPDIR/finops-parity/`` and run with this
interpreter (same dependencies), ``PYTHONPATH`` pointing at it; this tree runs the same way.
Each side allocates its own copy of the warehouse (``finops allocate``, a child process), then
the two tables are compared row by row: every non-money column is the key (``run_id`` left
out), money columns (``DOUBLE``) must agree to ``--tolerance`` (1e-9). Prints one JSON line
per variant; exits 1 when any variant differs. Engine changes must keep every variant
identical: the output rows and columns are the warehouse contract.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

ROOT = Path(__file__).resolve().parent.parent
TREES = Path(tempfile.gettempdir()) / "finops-parity"  # outside the tree: no linter sees it
TOLERANCE = 1e-9

# Allocation policies besides the config's own: each path of the engine (bases, idle
# policies, even shared split, taxes following spend) is compared at least once; and a
# reporting currency other than the bill's, so the conversion after the engine (fx_rate,
# fx_source, billing_* columns) is compared with rates that are not 1.
EUR_PER_USD = 0.92
VARIANTS: dict[str, dict[str, Any]] = {
    "as-configured": {},
    "quota": {"allocation": {"basis": "quota", "idle": "share-by-quota"}},
    "request-even": {"allocation": {"basis": "request", "idle": "share-by-request",
                                    "shared_split": "even", "tax_and_credits": "follow-spend"}},
    "usage-by-cost": {"allocation": {"basis": "usage", "idle": "share-by-cost"}},
    "reporting-eur": {"reporting_currency": "EUR"},  # + a USD->EUR rate per month allocated
}


def baseline_tree(ref: str) -> Path:
    """``ref``'s files (``git archive``), unpacked once per commit."""
    sha = _git("rev-parse", "--verify", f"{ref}^{{commit}}")
    tree = TREES / f"tree-{sha[:12]}"
    if not (tree / "finops").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True)
    return done.stdout.strip()


def variant_config(config: Path, overrides: dict[str, Any], folder: Path,
                   months: list[str]) -> Path:
    """``config`` with ``overrides`` merged into it (one level deep), written to ``folder``;
    a reporting currency brings a rate from USD for each of ``months``."""
    if not overrides:
        return config
    data = yaml.safe_load(config.read_text()) or {}
    for key, value in overrides.items():
        data[key] = {**(data.get(key) or {}), **value} if isinstance(value, dict) else value
    if "reporting_currency" in overrides:
        rates = [{"from": "USD", "to": overrides["reporting_currency"], "month": m,
                  "rate": EUR_PER_USD} for m in months]
        data["fx"] = {"rates": [*(data.get("fx") or {}).get("rates", []), *rates]}
    path = folder / "finops.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def months_between(start: str, end: str) -> list[str]:
    """Calendar months (``2026-10``) from ``start``'s to ``end``'s, both ISO dates."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def allocate_with(tree: Path, db: Path, config: Path, start: str, end: str) -> float:
    """Run ``tree``'s ``finops allocate`` on ``db``; its wall seconds. The process is set up
    as the ``finops`` command sets itself up (``finops.runtime``, where the tree has it)."""
    code = ("import finops, sys; assert finops.__file__.startswith(sys.argv.pop(1)); "
            "from importlib.util import find_spec; "
            "runtime = find_spec('finops.runtime') and __import__('finops.runtime').runtime; "
            "runtime and runtime.configure(sys.argv[1:]); "
            "from finops.cli import main; main()")
    args = [sys.executable, "-c", code, str(tree), "--db", str(db), "--config", str(config),
            "allocate", "--start", start, "--end", end]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    began = time.perf_counter()
    done = subprocess.run(args, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"allocate failed in {tree}:\n{(done.stderr or done.stdout)[-3000:]}")
    return time.perf_counter() - began


def read_allocation(db: Path) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql("SELECT * EXCLUDE (run_id) FROM allocation").pl()
    finally:
        con.close()


def compare(before: pl.DataFrame, after: pl.DataFrame,
            tolerance: float = TOLERANCE) -> dict[str, Any]:
    """Rows matched on every non-money column (nulls equal); money within ``tolerance``."""
    if before.schema != after.schema:
        return {"identical": False, "schema_before": str(before.schema),
                "schema_after": str(after.schema)}
    money = [n for n, t in before.schema.items() if t == pl.Float64]
    keys = [n for n in before.columns if n not in money]
    duplicated = before.height - before.select(keys).n_unique()
    joined = before.with_columns(pl.lit(True).alias("_b")).join(
        after.with_columns(pl.lit(True).alias("_a")), on=keys, how="full", coalesce=True,
        nulls_equal=True, suffix="_after")
    only_before = joined.filter(pl.col("_a").is_null()).height
    only_after = joined.filter(pl.col("_b").is_null()).height
    both = joined.filter(pl.col("_a") & pl.col("_b"))
    diffs = {m: float(both.select((pl.col(m) - pl.col(f"{m}_after")).abs().max()).item() or 0.0)
             for m in money}
    identical = (not only_before and not only_after and not duplicated
                 and before.height == after.height and all(d <= tolerance for d in diffs.values()))
    return {"identical": identical, "rows_before": before.height, "rows_after": after.height,
            "only_before": only_before, "only_after": only_after,
            "duplicated_keys": duplicated, "max_abs_difference": diffs}


def run_variant(name: str, args: argparse.Namespace, baseline: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="finops-parity-", dir=args.scratch) as scratch:
        folder = Path(scratch)
        config = variant_config(args.config, VARIANTS[name], folder,
                                months_between(args.start, args.end))
        result: dict[str, Any] = {"variant": name}
        frames = []
        for side, tree in (("before", baseline), ("after", ROOT)):
            db = folder / f"{side}.duckdb"
            shutil.copyfile(args.db, db)
            result[f"{side}_s"] = round(allocate_with(tree, db, config, args.start, args.end), 2)
            frames.append(read_allocation(db))
        before, after = frames
        return result | compare(before, after, tolerance=args.tolerance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="warehouse with bills and usage")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--start", required=True)
    parser.add_argument("--end", required=True)
    parser.add_argument("--baseline", default="HEAD", help="git ref of the engine before")
    parser.add_argument("--variant", nargs="*", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    parser.add_argument("--scratch", type=Path, default=None, help="where the copies go")
    args = parser.parse_args()
    args.db, args.config = args.db.resolve(), args.config.resolve()  # each side runs in its tree
    if args.scratch is not None:  # absolute too: each side runs in its own tree
        args.scratch = args.scratch.resolve()
        args.scratch.mkdir(parents=True, exist_ok=True)
    baseline = baseline_tree(args.baseline)
    failed = False
    for name in args.variant:
        result = run_variant(name, args, baseline)
        print(json.dumps({"baseline": baseline.name, **result}), flush=True)  # noqa: T201
        failed |= not result["identical"]
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

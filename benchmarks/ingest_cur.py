"""CUR 2.0 ingest speed against DuckDB's own floor, on one synthetic month (issue 3, Speed).

    python -m benchmarks.ingest_cur --lines 10000000 [--workdir DIR] [--repeat 2]

Generates (or reuses) a CUR 2.0 Data Export month of ``--lines`` line items below
``DIR/cur`` (``benchmarks.cur_month``: several snappy Parquet chunks + Manifest), then runs,
back to back and each in a fresh interpreter (peak RSS = the child's own ``ru_maxrss``):

- ``floor_scan``: ``SELECT count(*), sum(line_item_unblended_cost) FROM read_parquet(files)``
- ``floor_ctas``: ``CREATE TABLE t AS SELECT * FROM read_parquet(files)`` into a fresh file
- ``ingest``: the work of ``finops --db <fresh> ingest aws-cur DIR/cur`` in-process
  (discovery, checks, the mapping, the warehouse load and the published snapshot)

Rows/s count source line items for every stage. The ingest's totals are checked against
the source (billed cost = unblended cost to the cent). Results: a printed table and
``benchmarks/out/ingest_cur.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
GENERATOR = "cur_month/1"  # bump when the generated month changes shape
STAGES = ("floor_scan", "floor_scan_all", "floor_ctas", "ingest")
BASELINE = "ingest_baseline"  # the same CLI run from another checkout (--baseline DIR)


# -- data -----------------------------------------------------------------------------------
def data_files(cur: Path) -> list[str]:
    return sorted(str(p) for p in cur.rglob("*.parquet"))


def ensure_month(workdir: Path, lines: int, regenerate: bool) -> Path:
    """The month below ``workdir/cur``, generated unless one of the same size exists."""
    from benchmarks import cur_month

    cur = workdir / "cur"
    stamp = workdir / "generated.json"
    wanted = {"lines": lines, "generator": GENERATOR}
    if not regenerate and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        print(f"reusing {cur} ({lines:,} lines)", flush=True)
        return cur
    shutil.rmtree(cur, ignore_errors=True)
    stamp.unlink(missing_ok=True)
    started = time.perf_counter()
    print(f"generating {lines:,} CUR 2.0 lines into {cur} ...", flush=True)
    cur_month.generate(cur, lines)
    stamp.write_text(json.dumps(wanted))
    size = sum(Path(p).stat().st_size for p in data_files(cur)) / 2**20
    print(f"  done in {time.perf_counter() - started:.0f} s, {size:,.0f} MiB", flush=True)
    return cur


# -- stages (run in a child process) --------------------------------------------------------
def floor_scan(cur: Path, scratch: Path) -> dict[str, Any]:
    from benchmarks.floors import one_row

    row = one_row(f"SELECT count(*), sum(line_item_unblended_cost) "
               f"FROM read_parquet({data_files(cur)})")
    return {"rows": int(row[0]), "unblended": float(row[1])}


def floor_scan_all(cur: Path, scratch: Path) -> dict[str, Any]:
    """Decode every column of every row (a hash of each), write nothing."""
    from benchmarks.floors import one_row

    row = one_row(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM read_parquet({data_files(cur)})")
    return {"rows": int(row[0])}


def floor_ctas(cur: Path, scratch: Path) -> dict[str, Any]:
    import duckdb

    db = _fresh(scratch / "floor.duckdb")
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet({data_files(cur)})")
    row = con.execute("SELECT count(*) FROM t").fetchone()
    con.close()  # checkpoints: the data is on disk, like the warehouse's
    assert row is not None
    return {"rows": int(row[0]), "db_mib": round(db.stat().st_size / 2**20)}


def ingest(cur: Path, scratch: Path) -> dict[str, Any]:
    """What ``finops --db <fresh> ingest aws-cur DIR`` does (finops/cli/ingest/billing.py): open the
    store, open the warehouse (writer settings), ingest, publish the snapshot. Called
    directly rather than through ``finops.cli``, whose import pulls in every command module
    (an unrelated module mid-edit in a shared tree must not break this benchmark)."""
    code = os.environ.get("FINOPS_BENCH_CODE")
    if code:  # the baseline: import finops/ingestion from that checkout, not this one
        sys.path.insert(0, code)
    from finops.pipeline.store import ingest as ingest_loads
    from finops.settings import Settings
    from finops.warehouse import Warehouse
    from ingestion.billing import aws_cur
    from ingestion.billing.s3 import open_store

    db = _fresh(scratch / "warehouse.duckdb")
    snapshot = _fresh(db.with_name(f"{db.stem}.published.duckdb"))
    store, prefix = open_store(str(cur), None)
    with Warehouse(db, memory_limit=Settings().memory_limit, snapshot=snapshot) as warehouse:
        runs = ingest_loads(warehouse, aws_cur.SOURCE, [store.uri(prefix)],
                            lambda work: aws_cur.delivery_loads(store, prefix, work))
        warehouse.publish()
    return {"db_mib": round(db.stat().st_size / 2**20), "runs": [r.status for r in runs]}


def _fresh(path: Path) -> Path:
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def child(stage: str, cur: Path, scratch: Path) -> dict[str, Any]:
    started = time.perf_counter()
    stages = {"floor_scan": floor_scan, "floor_scan_all": floor_scan_all,
              "floor_ctas": floor_ctas, "ingest": ingest, BASELINE: ingest}
    extra = stages[stage](cur, scratch)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "stage": stage,
        "wall_s": round(time.perf_counter() - started, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),  # KiB on Linux
        **extra,
    }


# -- the parent -----------------------------------------------------------------------------
def run_stage(stage: str, cur: Path, scratch: Path, baseline: Path | None) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.ingest_cur", "--child", stage,
               "--workdir", str(cur.parent), "--scratch", str(scratch)]
    env = dict(os.environ)
    env.pop("FINOPS_BENCH_CODE", None)
    if stage == BASELINE and baseline:
        env["FINOPS_BENCH_CODE"] = str(baseline)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                          env=env)
    if done.returncode:
        raise SystemExit(f"{stage} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - started, 3)
    return result


def check_ingest(scratch: Path, source_unblended: float) -> dict[str, Any]:
    """The warehouse's totals against the source, to the cent."""
    import duckdb

    con = duckdb.connect(str(scratch / "warehouse.duckdb"), read_only=True)
    row = con.execute(
        "SELECT count(*), sum(billed_cost), sum(effective_cost) FROM cost_line"
    ).fetchone()
    con.close()
    assert row is not None
    return {"cost_lines": int(row[0]), "billed": round(float(row[1]), 2),
            "effective": round(float(row[2]), 2),
            "billed_matches_source": round(float(row[1]), 2) == round(source_unblended, 2)}


def summarise(rounds: list[dict[str, dict[str, Any]]], lines: int) -> dict[str, Any]:
    """Per round: rows/s of each stage and the ingest's ratio to each floor."""
    for results in rounds:
        for result in results.values():
            result["rows_per_s"] = round(lines / result["wall_s"])
        for stage in ("ingest", BASELINE):
            if stage not in results:
                continue
            rate = results[stage]["rows_per_s"]
            for floor in ("scan", "scan_all", "ctas"):
                results[stage][f"ratio_to_{floor}"] = round(
                    rate / results[f"floor_{floor}"]["rows_per_s"], 3)
    best = max(rounds, key=lambda r: r["ingest"]["ratio_to_ctas"])
    return {"best_round": rounds.index(best),
            **{k: v for k, v in best["ingest"].items() if k.startswith("ratio_to_")}}


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def print_table(rounds: list[dict[str, dict[str, Any]]]) -> None:
    head = f"{'round':>5} {'stage':<15} {'wall s':>8} {'rows/s':>11} {'peak RSS MiB':>13} " \
           f"{'cpu s':>7} {'x scan':>7} {'x all':>7} {'x ctas':>7}"
    print(head)
    print("-" * len(head))
    for index, results in enumerate(rounds):
        for stage, r in results.items():
            ratios = (f"{r['ratio_to_scan']:>7.3f} {r['ratio_to_scan_all']:>7.3f} "
                      f"{r['ratio_to_ctas']:>7.3f}" if "ratio_to_scan" in r else "")
            print(f"{index:>5} {stage:<15} {r['wall_s']:>8.2f} {r['rows_per_s']:>11,} "
                  f"{r['peak_rss_mib']:>13,} {r['cpu_s']:>7.1f} {ratios}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path, default=OUT / "ingest_cur_data")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the three stages")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--baseline", type=Path, help="also run the ingest of this checkout "
                        "(e.g. `git archive HEAD | tar -x -C DIR`), for before/after figures")
    parser.add_argument("--out", type=Path, default=OUT / "ingest_cur.json")
    parser.add_argument("--child", choices=[*STAGES, BASELINE], help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    scratch = args.scratch or workdir / "scratch"
    if args.child:
        print(json.dumps(child(args.child, workdir / "cur", scratch)))
        return
    cur = ensure_month(workdir, args.lines, args.regenerate)
    rounds = []
    for index in range(args.repeat):
        results = {}
        stages = [*STAGES, BASELINE] if args.baseline else list(STAGES)
        for stage in stages:
            print(f"round {index}: {stage} ...", flush=True)
            results[stage] = run_stage(stage, cur, scratch, args.baseline)
            if stage.startswith("ingest"):
                results[stage]["check"] = check_ingest(scratch,
                                                       results["floor_scan"]["unblended"])
        rounds.append(results)
    summary = summarise(rounds, args.lines)
    print_table(rounds)
    for stage in ("ingest", BASELINE):
        if stage in rounds[-1]:
            print(f"{stage} check: {rounds[-1][stage]['check']}")
    report = {"date": f"{datetime.now(UTC):%Y-%m-%d}", "commit": commit(),
              "machine": {"cpus": _cpus(), "platform": platform.platform(),
                          "python": platform.python_version(), "duckdb": _version("duckdb")},
              "lines": args.lines, "files": len(data_files(cur)),
              "data_mib": round(sum(Path(p).stat().st_size for p in data_files(cur)) / 2**20),
              "baseline": str(args.baseline) if args.baseline else None,
              "rounds": rounds, "summary": summary}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _version(module: str) -> str:
    from importlib.metadata import version

    return version(module)


if __name__ == "__main__":
    main()

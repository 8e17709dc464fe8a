"""``python -m benchmarks run --size S|M|L|XL [--out results.json]`` and ``growth FILES``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.report import console, growth_table, serve_table, stage_growth_table, stages_table
from benchmarks.run import ROOT, SIZES, Plan, run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="generate an organisation and measure every stage")
    one.add_argument("--size", choices=list(SIZES), default="S")
    one.add_argument("--out", type=Path, help="results JSON (default benchmarks/out/<size>.json)")
    one.add_argument("--workdir", type=Path, help="where data and the warehouse go")
    one.add_argument("--seed", type=int, default=7)
    one.add_argument("--reuse", action="store_true", help="reuse generated data if present")
    one.add_argument("--skip", nargs="*", default=[],
                     help="stages to skip (e.g. api budgets) or bill sources (aws gcp azure) "
                          "to leave out of ingest_billing and its floor")
    one.add_argument("--only", nargs="*", default=[],
                     help="rerun only these stages (e.g. allocate) on the existing warehouse, "
                          "merging into the existing results file")
    year = sub.add_parser("year", help="grow the size's warehouse to a year; measure month N")
    year.add_argument("--size", choices=list(SIZES), default="L")
    year.add_argument("--months", type=int, default=12)
    year.add_argument("--resume", action="store_true",
                      help="continue the <size>-year warehouse where an earlier run stopped "
                           "(months already grown are kept; month 1 is not allocated again)")
    changed = sub.add_parser("changed", help="allocate the month, change one day, allocate "
                             "the changed days: each in its own process")
    changed.add_argument("--size", choices=list(SIZES), default="L")
    changed.add_argument("--code", type=Path, help="run the steps with the code of this "
                         "checkout (git archive COMMIT | tar -x -C DIR) for before/after")
    changed.add_argument("--out", type=Path, help="default benchmarks/out/changed-<size>.json")
    changed.add_argument("--source", type=Path, help="the warehouse copied (default "
                         "benchmarks/out/<size>/finops.duckdb), e.g. the year's")
    changed.add_argument("--window", nargs=2, metavar=("FIRST", "LAST"),
                         help="the month allocated (default the size's window); its last day "
                              "is the one changed")
    changed.add_argument("--workdir", type=Path, help="the size's harness directory, with "
                         "data/finops.yaml (default benchmarks/out/<size>); the copy is run "
                         "beside it, in <workdir>-changed (e.g. on another filesystem)")
    load = sub.add_parser("serve", help="a real finops serve under concurrent clients")
    load.add_argument("--size", choices=list(SIZES), default="S")
    load.add_argument("--clients", type=int, default=20)
    load.add_argument("--requests", type=int, default=400, help="requests per route")
    load.add_argument("--out", type=Path, help="default benchmarks/out/serve-<size>.json")
    load.add_argument("--workdir", type=Path, help="the warehouse's directory")
    load.add_argument("--route", action="append", help="only these paths (repeatable)")
    load.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                      help="environment of the server, e.g. FINOPS_API__CACHE_MB=0")
    load.add_argument("--baseline", type=Path, help="serve with the code of this checkout "
                      "(git archive COMMIT | tar -x -C DIR) for before/after")
    grow = sub.add_parser("growth", help="compare result files of several sizes")
    grow.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    if args.command == "year":
        from benchmarks.year import run_year

        out = ROOT / "benchmarks" / "out" / f"{args.size}-year.json"
        out.write_text(json.dumps(run_year(args.size, args.months, resume=args.resume), indent=2))
        console.print(out.read_text())
        return
    if args.command == "changed":
        changed_main(args)
        return
    if args.command == "growth":
        results = [json.loads(p.read_text()) for p in args.files]
        ordered = sorted(results, key=lambda r: list(SIZES).index(r["size"]))
        console.print(growth_table(ordered))
        console.print(stage_growth_table(ordered))
        return
    if args.command == "serve":
        serve_main(args)
        return
    workdir = args.workdir or ROOT / "benchmarks" / "out" / args.size
    out = args.out or ROOT / "benchmarks" / "out" / f"{args.size}.json"
    previous = json.loads(out.read_text()) if out.exists() else None
    result = run(Plan(args.size, workdir, args.seed), reuse=args.reuse, skip=tuple(args.skip),
                 only=tuple(args.only), previous=previous)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    console.print(stages_table(result))
    for name in result["failed"]:
        console.print(f"[red]{name} failed:[/]")
        console.print(result["stages"][name]["error"], markup=False, highlight=False)
    console.print(f"results: {out}")
    if result["failed"]:
        raise SystemExit(1)


def changed_main(args: argparse.Namespace) -> None:
    from benchmarks.changed import run_changed

    out = args.out or ROOT / "benchmarks" / "out" / f"changed-{args.size}.json"
    result = run_changed(args.size, args.code, args.source,
                         tuple(args.window) if args.window else None, args.workdir)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    console.print(json.dumps(result, indent=2))


def serve_main(args: argparse.Namespace) -> None:
    from benchmarks.serve import run_serve  # imports the test helpers: only for this command

    env = dict(item.split("=", 1) for item in args.env)
    result = run_serve(args.size, clients=args.clients, requests=args.requests,
                       workdir=args.workdir, env=env, routes=args.route,
                       baseline=args.baseline)
    out = args.out or ROOT / "benchmarks" / "out" / f"serve-{args.size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    console.print(serve_table(result))
    console.print(f"results: {out}")
    if any(route["errors"] for route in result["routes"]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

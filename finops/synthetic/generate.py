"""Generate a whole synthetic organisation into a directory, a day at a time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

from finops.synthetic import accounts as acc
from finops.synthetic.aws import CurWriter
from finops.synthetic.azure import write_azure
from finops.synthetic.demo_config import write_config
from finops.synthetic.gcp import GcpWriter
from finops.synthetic.intervals import build_intervals, hourly, pod_usage
from finops.synthetic.org import build_org
from finops.synthetic.spec import SizeSpec
from finops.synthetic.usage import UsageWriter, day_windows

Progress = Callable[[int, int], None]


def generate(spec: SizeSpec, out: Path, seed: int, progress: Progress | None = None,
             gcp_format: str | None = None) -> dict:
    """Write bills, usage, finops.yaml and expected_totals.json under ``out``; return totals.

    ``gcp_format`` (jsonl.gz, jsonl, parquet) defaults to the size's own.
    """
    out.mkdir(parents=True, exist_ok=True)
    org = build_org(spec, seed)
    frames = build_intervals(org)
    usage, cur = UsageWriter(out, org, spec.usage_by_day), CurWriter(out, org)
    gcp = GcpWriter(out, org, gcp_format or spec.gcp_format)
    spend: list[pl.DataFrame] = []
    windows = day_windows(spec.start, spec.days)
    for i, (lo, hi) in enumerate(windows):
        node_h = hourly(frames.nodes, lo, hi)
        pod_h = pod_usage(hourly(frames.pods, lo, hi), seed, spec.start)
        vol_h = hourly(frames.volumes, lo, hi)
        lb_h = hourly(frames.lbs, lo, hi)
        usage.write_day(node_h, pod_h, vol_h, lb_h, lo)
        cur.write_day(lo, hi, node_h, vol_h, lb_h)
        gcp.write_day(lo, hi, node_h, vol_h)
        spend.append(_team_usage(pod_h))
        if progress:
            progress(i + 1, len(windows))
    totals = _totals(spec, seed, usage.close(), cur.finish(), gcp.finish(), write_azure(out, org))
    (out / "expected_totals.json").write_text(json.dumps(totals, indent=2, sort_keys=True) + "\n")
    write_config(out / "finops.yaml", org, spend)
    return totals


def _team_usage(pod_h: pl.DataFrame) -> pl.DataFrame:
    """Requested (or used, if more) core-hours per cluster and namespace: sizes the budgets."""
    alloc = pl.max_horizontal(pl.col("cpu_request").fill_null(0), pl.col("cpu_usage"))
    return pod_h.group_by("cluster", "namespace", maintain_order=True).agg(
        core_hours=(alloc * pl.col("running_seconds") / 3600).sum())


def _totals(spec: SizeSpec, seed: int, usage: dict, cur: dict, gcp: dict, azure: dict) -> dict:
    aws_billed = sum(t["billed_cost"] for t in cur["by_account"].values())
    aws_effective = sum(t["effective_cost"] for t in cur["by_account"].values())
    gcp_net = sum(t["net"] for t in gcp["by_project"].values())
    return {
        "size": spec.name, "seed": seed, "window": {
            "start": spec.start.isoformat(), "end": spec.end.isoformat()},
        "currency": "USD",
        "billing_accounts": [
            {"provider": "aws", "billing_account_id": acc.AWS_PAYER[0],
             "billed_cost": round(aws_billed, 6), "effective_cost": round(aws_effective, 6),
             "sub_accounts": cur["by_account"], "rows": cur["rows"], "files": cur["files"],
             "savings_plan_hourly_commitment": cur["savings_plan_hourly_commitment"]},
            {"provider": "gcp", "billing_account_id": acc.GCP_BILLING_ACCOUNT,
             "billed_cost": round(gcp_net, 6), "effective_cost": round(gcp_net, 6),
             "sub_accounts": gcp["by_project"], "rows": gcp["rows"], "files": [gcp["file"]]},
            {"provider": "azure", "billing_account_id": acc.AZURE_BILLING_ACCOUNT[0],
             "billed_cost": azure["billed_cost"], "effective_cost": azure["billed_cost"],
             "rows": azure["rows"], "files": [azure["file"]]},
        ],
        "usage_rows": usage,
    }

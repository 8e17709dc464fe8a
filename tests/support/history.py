"""A small allocatable history, loaded the way collectors load it: one node with two pods
(``usage``, replacing a window of days; ``record`` writes the same as a recording for
``finops ingest usage``) and a bill of daily node lines, with an optional monthly fee
(``deliver``, replacing its billing period). For the incremental allocation, retention and
``finops run`` tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from finops.warehouse import Warehouse
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import COST_LINE, K8S_NODE_HOUR, K8S_POD_HOUR, conform
from tests.support.loads import PERIOD_KEYS
from tests.support.rows import bill_row, labels, node_rows, pod_rows

NODE = "aws:///us-east-1a/i-0aaa00000000000a"
INSTANCE = "i-0aaa00000000000a"
USAGE = "cluster = 'c1' AND hour >= $s AND hour < $e"


def usage(wh: Warehouse, first: date, n_days: int = 1) -> None:
    """Node and pod hours of ``n_days`` days from ``first``, replacing those days."""
    start = datetime.combine(first, datetime.min.time())
    n = 24 * n_days
    window = {"s": start, "e": start + timedelta(days=n_days)}
    nodes = pl.DataFrame(node_rows("a", provider_id=NODE, start=start, n_hours=n))
    pods = pl.DataFrame(pod_rows("pay-1", "a", "payments", start=start, n_hours=n,
                                 pod_labels=labels(team="payments"))
                        + pod_rows("web-1", "a", "web", start=start, n_hours=n))
    wh.load(Load(IngestRun(new_run_id("usage"), "usage", None, None, []),
                 [Replace(K8S_NODE_HOUR, nodes, USAGE, window),
                  Replace(K8S_POD_HOUR, pods, USAGE, window)]))


def deliver(wh: Warehouse, daily: dict[date, float], *, monthly: float | None = None) -> None:
    """A delivery of the billing period of the days in ``daily`` (one month): the node's cost
    per day, and a monthly support fee over the whole month when given."""
    period = min(daily).replace(day=1)
    lines = [bill_row(INSTANCE, cost, day=d) for d, cost in daily.items()]
    if monthly is not None:
        end = (period + timedelta(days=32)).replace(day=1)
        lines.append(bill_row(None, monthly, service_name="Support", day=period,
                              charge_period_end=datetime.combine(end, datetime.min.time())))
    rows = pl.DataFrame(lines).drop("day").with_columns(
        billing_period_start=pl.lit(datetime.combine(period, datetime.min.time())),
        x_source=pl.lit("aws-cur"))
    wh.load(Load(IngestRun(new_run_id("aws-cur"), "aws-cur", None, None, []),
                 [Replace(COST_LINE, rows, keys=PERIOD_KEYS)]))


def runs_by_day(wh: Warehouse) -> dict[date, str]:
    """The run that allocated each day."""
    rows = wh.frame("SELECT DISTINCT day, run_id FROM allocation")
    return dict(zip(rows["day"], rows["run_id"], strict=True))


def record(folder: Path, first: date, n_days: int = 1) -> Path:
    """The same usage as ``usage`` written as a recording (``<table>.parquet`` files), as
    ``finops ingest usage`` reads it."""
    start = datetime.combine(first, datetime.min.time())
    n = 24 * n_days
    folder.mkdir(parents=True, exist_ok=True)
    conform(pl.DataFrame(node_rows("a", provider_id=NODE, start=start, n_hours=n)),
            K8S_NODE_HOUR).write_parquet(folder / "k8s_node_hour.parquet")
    conform(pl.DataFrame(pod_rows("pay-1", "a", "payments", start=start, n_hours=n,
                                  pod_labels=labels(team="payments"))
                         + pod_rows("web-1", "a", "web", start=start, n_hours=n)),
            K8S_POD_HOUR).write_parquet(folder / "k8s_pod_hour.parquet")
    return folder

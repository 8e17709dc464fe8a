"""Every load records the days it changed (``finops.changes``, inside ``Warehouse.load``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from finops.warehouse import Warehouse
from ingestion.fx.rates import rates_load
from models.errors import WarehouseError
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import (
    ALLOCATED_DAY,
    COST_LINE,
    K8S_NAMESPACE,
    K8S_POD_HOUR,
    PRICE_CATALOG,
)
from tests.support.loads import PERIOD_KEYS
from tests.support.rows import bill_row, ns_row, pod_rows

OCT = datetime(2024, 10, 1)
USAGE = "cluster = $c AND hour >= $s AND hour < $e"


def run(source: str = "test") -> IngestRun:
    return IngestRun(new_run_id(source), source, None, None, [])


def marked(wh: Warehouse) -> dict[str, list[date]]:
    rows = wh.frame("SELECT table_name, list(DISTINCT day ORDER BY day) AS days "
                    "FROM changed_day GROUP BY 1")
    return dict(zip(rows["table_name"], rows["days"].to_list(), strict=True))


def clear(wh: Warehouse) -> None:
    wh.con.execute("DELETE FROM changed_day")


def days(first: int, last: int) -> list[date]:
    return [date(2024, 10, d) for d in range(first, last + 1)]


def usage(wh: Warehouse, first: int, n_days: int, *, cpu: float = 0.5) -> None:
    """A usage window: pod-hours of ``n_days`` days from October ``first``, replacing them."""
    start = datetime(2024, 10, first)
    rows = pl.DataFrame(pod_rows("p", "n1", "web", start=start, n_hours=24 * n_days,
                                 cpu_use=cpu))
    wh.load(Load(run(), [Replace(K8S_POD_HOUR, rows, USAGE,
                                 {"c": "c1", "s": start, "e": start + timedelta(days=n_days)})]))


def bill(costs: dict[int, float], *, monthly: float = 31.0, stamp: str = "a") -> pl.DataFrame:
    """The October bill of acct-1 as a delivery: a daily line per day, and a monthly fee."""
    lines = [bill_row("i-1", cost, day=date(2024, 10, d)) for d, cost in costs.items()]
    lines.append(bill_row(None, monthly, service_name="Support", day=date(2024, 10, 1),
                          charge_period_end=datetime(2024, 11, 1)))
    return (pl.DataFrame(lines).drop("day")
            .with_columns(billing_period_start=pl.lit(OCT), x_source=pl.lit("aws-cur"),
                          x_source_file=pl.lit(f"delivery-{stamp}.parquet"),
                          x_ingest_run=pl.lit(f"run-{stamp}")))


def deliver(wh: Warehouse, rows: pl.DataFrame) -> None:
    wh.load(Load(run("aws-cur"), [Replace(COST_LINE, rows, keys=PERIOD_KEYS)]))


def test_a_new_usage_day_marks_that_day_only(warehouse: Warehouse) -> None:
    usage(warehouse, 1, 3)
    assert marked(warehouse) == {"k8s_pod_hour": days(1, 3)}
    clear(warehouse)
    usage(warehouse, 4, 1)
    assert marked(warehouse) == {"k8s_pod_hour": days(4, 4)}


def test_the_same_usage_again_marks_nothing_and_a_changed_day_marks_it(
        warehouse: Warehouse) -> None:
    usage(warehouse, 1, 3)
    clear(warehouse)
    usage(warehouse, 1, 3)  # a collector re-reading its lookback window: nothing new
    assert marked(warehouse) == {}
    usage(warehouse, 3, 1, cpu=0.75)  # late samples change day 3
    assert marked(warehouse) == {"k8s_pod_hour": days(3, 3)}


def test_a_bill_restatement_marks_the_days_whose_lines_moved(warehouse: Warehouse) -> None:
    deliver(warehouse, bill({1: 10.0, 2: 10.0, 3: 10.0}))
    assert marked(warehouse) == {"cost_line": days(1, 31)}  # the monthly fee covers October
    clear(warehouse)
    # Delivered again, from other files by another run: the same lines, nothing changed.
    deliver(warehouse, bill({1: 10.0, 2: 10.0, 3: 10.0}, stamp="b"))
    assert marked(warehouse) == {}
    # Day 2 restated and day 4 added: those days, not the month.
    deliver(warehouse, bill({1: 10.0, 2: 12.5, 3: 10.0, 4: 10.0}, stamp="c"))
    assert marked(warehouse) == {"cost_line": [date(2024, 10, 2), date(2024, 10, 4)]}
    clear(warehouse)
    # The monthly fee restated: every day it covers.
    deliver(warehouse, bill({1: 10.0, 2: 12.5, 3: 10.0, 4: 10.0}, monthly=62.0))
    assert marked(warehouse) == {"cost_line": days(1, 31)}


def test_a_relabelled_namespace_marks_the_days_from_the_change(warehouse: Warehouse) -> None:
    usage(warehouse, 1, 10)
    history = [ns_row("web", team="web", valid_from=datetime(2024, 1, 1))]
    replace = "cluster = $c"
    warehouse.load(Load(run(), [Replace(K8S_NAMESPACE, pl.DataFrame(history), replace,
                                        {"c": "c1"})]))
    assert marked(warehouse)["k8s_namespace"] == days(1, 10)  # only days with usage
    clear(warehouse)
    noon = datetime(2024, 10, 6, 12)
    relabelled = [ns_row("web", team="web", valid_from=datetime(2024, 1, 1), valid_to=noon),
                  ns_row("web", team="shop", valid_from=noon)]
    warehouse.load(Load(run(), [Replace(K8S_NAMESPACE, pl.DataFrame(relabelled), replace,
                                        {"c": "c1"})]))
    assert marked(warehouse) == {"k8s_namespace": days(6, 10)}


def test_a_failed_load_marks_nothing(warehouse: Warehouse) -> None:
    with pytest.raises(WarehouseError, match="nothing changed"):
        warehouse.load(Load(run(), [
            Replace(COST_LINE, bill({1: 10.0}), keys=PERIOD_KEYS),
            Replace(K8S_POD_HOUR, "SELECT error('bad row') AS hour")]))
    assert marked(warehouse) == {}


def test_an_append_marks_every_day_its_rows_touch(warehouse: Warehouse) -> None:
    rows = pl.DataFrame(pod_rows("p", "n1", "web", start=datetime(2024, 10, 5), n_hours=30))
    warehouse.load(Load(run(), [Replace(K8S_POD_HOUR, rows)]))  # where false: nothing replaced
    assert marked(warehouse) == {"k8s_pod_hour": days(5, 6)}


def test_a_new_price_list_marks_every_allocated_day(warehouse: Warehouse) -> None:
    allocated = pl.DataFrame({"day": days(1, 3), "run_id": "r", "config_fingerprint": "f",
                              "allocated_at": OCT})
    warehouse.load(Load(run(), [Replace(ALLOCATED_DAY, allocated)]))
    prices = pl.DataFrame({"provider": ["aws"], "region": ["us-east-1"],
                           "instance_type": ["m5.large"], "resource": ["instance"],
                           "price": [0.096]})
    catalog = "provider = 'aws'"
    warehouse.load(Load(run(), [Replace(PRICE_CATALOG, prices, catalog)]))
    assert marked(warehouse) == {"price_catalog": days(1, 3)}
    clear(warehouse)
    warehouse.load(Load(run(), [Replace(PRICE_CATALOG, prices, catalog)]))
    assert marked(warehouse) == {}


def test_a_changed_rate_marks_the_allocated_days_it_is_valid_on(warehouse: Warehouse,
                                                                 tmp_path: Path) -> None:
    allocated = pl.DataFrame({"day": days(1, 3), "run_id": "r", "config_fingerprint": "f",
                              "allocated_at": OCT})
    warehouse.load(Load(run(), [Replace(ALLOCATED_DAY, allocated)]))
    rates = tmp_path / "rates.csv"
    rates.write_text("date,from,to,rate\n2024-10,EUR,USD,1.08\n2024-10-02,JPY,USD,0.0067\n")
    warehouse.load(rates_load(rates))  # the month: only its allocated days (1..3), not 4..31
    assert marked(warehouse) == {"fx_rate": days(1, 3)}
    clear(warehouse)
    rates.write_text("date,from,to,rate\n2024-10,EUR,USD,1.08\n2024-10-02,JPY,USD,0.0068\n")
    warehouse.load(rates_load(rates))  # the same month's rate again, one day's restated
    assert marked(warehouse) == {"fx_rate": [date(2024, 10, 2)]}


def test_a_load_that_marks_no_days_records_none(warehouse: Warehouse) -> None:
    usage(warehouse, 1, 2)
    clear(warehouse)
    retire = Load(run("retention"), [Replace(K8S_POD_HOUR, K8S_POD_HOUR.empty(),
                                             "hour < $t", {"t": datetime(2024, 10, 2)})],
                  marks_days=False)
    warehouse.load(retire)
    assert marked(warehouse) == {}
    assert warehouse.frame("SELECT count(*) AS n FROM k8s_pod_hour")["n"].item() == 24

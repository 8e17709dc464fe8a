"""The engine's input reads: pod-hours keyed by DuckDB while reading mean the same to the
engine as the raw pod-hours keyed in Polars (same pods, same hours, same team values)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from finops.allocation.inputs import AllocationInputs
from finops.allocation.pod_hours import PodHours
from finops.allocation.pod_keys import ATTRS, PodFrame, key_pods
from finops.pipeline.inputs import POD_ATTRS_GROUPED_SQL, as_pod_columns, read_day, read_pod_hours
from finops.warehouse import Warehouse
from models.config import parse_config
from models.loads import IngestRun, Load, Replace
from models.schemas import K8S_NAMESPACE, K8S_POD_HOUR, conform
from tests.support.rows import T0, labels, ns_row, pod_rows

DAY = T0.date()
CONFIG = parse_config({})


def _pods() -> list[dict]:
    """Steady pods, a pod relabelled at 03:00, a pod restarted under the same name on
    another node, pods of a namespace relabelled at 02:00, and the next day's hours."""
    rows = pod_rows("steady", "a", "ns1", n_hours=24, pod_labels=labels(team="search"))
    moved = pod_rows("moved", "a", "ns1", n_hours=5)
    for row in moved[3:]:
        row["labels"] = labels(team="payments")
    again = pod_rows("db-0", "a", "ns1", n_hours=2) + pod_rows("db-0", "b", "ns1", n_hours=2)
    again[2]["pod_uid"] = again[3]["pod_uid"] = "db-0-second"
    relabelled = pod_rows("web", "b", "ns2", n_hours=6)
    later = pod_rows("tomorrow", "a", "ns1", n_hours=2, start=T0 + timedelta(days=1))
    return rows + moved + again + relabelled + later


def _seed(db: Path) -> None:
    namespaces = [ns_row("ns1", team="search"),
                  ns_row("ns2", team="web", valid_to=T0 + timedelta(hours=2)),
                  ns_row("ns2", team="shop", valid_from=T0 + timedelta(hours=2))]
    frames = [(K8S_POD_HOUR, pl.DataFrame(_pods())), (K8S_NAMESPACE, pl.DataFrame(namespaces))]
    with Warehouse(db) as wh:
        wh.load(Load(IngestRun("seed", "test", None, None, []),
                     [Replace(t, f) for t, f in frames]))


def _by_hour(pods: PodFrame) -> pl.DataFrame:
    """Every pod-hour with its key's attrs, the key itself left out (only grouping counts)."""
    joined = pods.facts.join(pods.attrs, on="_pk", how="left")
    return joined.drop("_pk").sort(["pod", "node", "hour"]).select("hour", *ATTRS,
                                                                   "cpu_request")


def test_pod_hours_keyed_by_duckdb_mean_what_polars_keying_means(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    _seed(db)
    with Warehouse(db) as wh:
        inputs = read_day(wh, DAY, AllocationInputs(namespaces=conform(
            wh.frame("SELECT * FROM k8s_namespace"), K8S_NAMESPACE)))
        raw = conform(wh.frame("SELECT * FROM k8s_pod_hour WHERE hour::DATE = $d", {"d": DAY}),
                      K8S_POD_HOUR)
    assert inputs.pod_hours is not None and inputs.pods.height == 0
    read = key_pods(inputs.pod_hours, inputs.namespaces, CONFIG)
    polars = key_pods(raw, inputs.namespaces, CONFIG)
    assert read.facts.height == raw.height == 24 + 5 + 4 + 6
    assert _by_hour(read).equals(_by_hour(polars))
    # One key per pod and node a day, except the relabelled pod (2) and ns2's hourly keys.
    assert read.attrs.height == polars.attrs.height == 1 + 2 + 2 + 6
    web = _by_hour(read).filter(pl.col("pod") == "web")["ns_label_value"].to_list()
    assert web == ["web", "web", "shop", "shop", "shop", "shop"]


def test_a_day_read_with_its_pod_hours_beside_the_rest_is_the_same_read(
        tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    _seed(db)
    with Warehouse(db) as wh, wh.reader() as reader, wh.reader() as side:
        shared = AllocationInputs(namespaces=conform(wh.frame("SELECT * FROM k8s_namespace"),
                                                     K8S_NAMESPACE))
        alone, beside = (read_day(reader, DAY, shared, side=s) for s in (None, side))
    assert alone.pod_hours is not None and beside.pod_hours is not None
    assert alone.pod_hours.facts.height == 24 + 5 + 4 + 6
    assert beside.pod_hours.facts.equals(alone.pod_hours.facts)
    assert beside.pod_hours.attrs.equals(alone.pod_hours.attrs)
    for name in ("nodes", "pods", "volumes", "bill", "namespaces"):
        assert getattr(beside, name).equals(getattr(alone, name)), name


def test_attrs_fetched_by_rowid_equal_the_grouped_read(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    _seed(db)
    params = {"start": datetime.combine(DAY, datetime.min.time()),
              "end": datetime.combine(DAY + timedelta(days=1), datetime.min.time())}
    with Warehouse(db) as wh:
        fetched = read_pod_hours(wh, params)
        grouped = as_pod_columns(wh.frame(POD_ATTRS_GROUPED_SQL, params))
    order = ["_pk"]
    assert fetched.attrs.select(grouped.columns).drop("hour").sort(order).equals(
        grouped.drop("hour").sort(order))
    first_hours = fetched.facts.group_by("_pk").agg(pl.col("hour").min())
    assert first_hours.join(fetched.attrs, on=["_pk", "hour"], how="anti").height == 0


def test_pod_hours_cut_by_day_and_cluster_keep_their_keys() -> None:
    frame = conform(pl.DataFrame(_pods()), K8S_POD_HOUR)
    keyed = PodHours.of(frame)
    assert keyed.days() == {DAY, DAY + timedelta(days=1)}
    today = keyed.for_day(DAY)
    assert today.facts.height == frame.filter(pl.col("hour").dt.date() == DAY).height
    assert set(today.attrs["_pk"]) == set(today.facts["_pk"])
    assert today.attrs.join(today.facts, on=["_pk", "hour"], how="anti").height == 0
    mine = keyed.for_cluster("c1")
    assert mine.facts.height == frame.height and keyed.for_cluster("other").facts.height == 0
    assert date(2000, 1, 1) not in keyed.days()

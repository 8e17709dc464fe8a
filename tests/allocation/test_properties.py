"""Hypothesis properties over random clusters, bills and policies: conservation to the cent
per (day, billing account), no negative cost except credits, idempotence, partition runs ==
whole-window run, and ownership precedence."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from finops.allocation.cloud import finalize_day
from finops.allocation.engine import allocate, finish, partitions
from finops.allocation.inputs import AllocationInputs
from finops.allocation.reconcile import disagreements
from finops.allocation.rows import KEYS, collapse, concat_rows
from models.config import FinOpsConfig, parse_config
from tests.support.rows import bill_row, labels, node_rows, ns_row, pod_rows

DAYS = [date(2024, 5, 1), date(2024, 5, 2)]
SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
money = st.floats(0.01, 500, allow_nan=False).map(lambda x: round(x, 4))


def _quota_rows(draw: st.DrawFn, cluster: str) -> list[dict]:
    """ResourceQuotas on some namespaces (``empty`` never has pods) for a few hours."""
    rows = []
    for namespace in draw(st.lists(st.sampled_from(["pay", "web", "empty"]), max_size=3,
                                   unique=True)):
        day = draw(st.sampled_from(DAYS))
        start = datetime(day.year, day.month, day.day) + timedelta(hours=draw(st.integers(0, 12)))
        cpu, mem = draw(st.floats(0, 8)), draw(st.floats(0, 32)) * 1024.0**3
        rows += [{"cluster": cluster, "namespace": namespace, "quota": "q", "resource": r,
                  "hour": start + timedelta(hours=h), "hard": v, "used": 0.0}
                 for h in range(draw(st.integers(1, 12)))
                 for r, v in (("requests.cpu", cpu), ("requests.memory", mem))]
    return rows


@st.composite
def worlds(draw: st.DrawFn, basis: str | None = None) -> tuple[AllocationInputs, FinOpsConfig]:
    nodes, pods, bill, ns, quotas = [], [], [], [], []
    for c in range(draw(st.integers(1, 2))):
        cluster = f"c{c}"
        for n in range(draw(st.integers(1, 3))):
            node, iid = f"{cluster}-n{n}", f"i-{c:04d}{n:04d}0000000a"
            day = draw(st.sampled_from(DAYS))
            start = (datetime(day.year, day.month, day.day)
                     + timedelta(hours=draw(st.integers(0, 12))))
            n_hours = draw(st.integers(1, 12))
            nodes += node_rows(node, cluster=cluster, provider_id=f"aws:///z/{iid}",
                               cpu=draw(st.sampled_from([2, 4, 8])),
                               gpu=draw(st.sampled_from([0, 1])),
                               n_hours=n_hours, start=start)
            if draw(st.booleans()):
                bill.append(bill_row(iid, draw(money), day=day,
                                     account=draw(st.sampled_from(["a1", "a2", None]))))
            for p in range(draw(st.integers(0, 4))):
                namespace = draw(st.sampled_from(["kube-system", "pay", "web", "data"]))
                team = draw(st.sampled_from([None, "pay", "Web", "zzz"]))
                pods += pod_rows(f"{node}-p{p}", node, namespace, cluster=cluster,
                                 cpu_req=draw(st.floats(0, 6)), cpu_use=draw(st.floats(0, 6)),
                                 mem_req_gib=draw(st.floats(0, 20)),
                                 gpu=draw(st.sampled_from([0, 1])),
                                 n_hours=draw(st.integers(1, n_hours)), start=start,
                                 net=draw(st.sampled_from([0, 1e6])),
                                 pod_labels=labels(team=team) if team else [])
        if draw(st.booleans()):
            bill.append(bill_row(f"arn:aws:eks:r:1:cluster/{cluster}", draw(money),
                                 day=draw(st.sampled_from(DAYS)), service_name="AmazonEKS"))
        ns.append(ns_row("data", cluster=cluster, team="data"))
        quotas += _quota_rows(draw, cluster)
    for _ in range(draw(st.integers(0, 4))):
        category = draw(st.sampled_from(["Usage", "Tax", "Credit"]))
        amount = draw(money) * (-1 if category == "Credit" else 1)
        bill.append(bill_row(draw(st.sampled_from(["db-1", None])), amount,
                             day=draw(st.sampled_from(DAYS)), charge_category=category,
                             account=draw(st.sampled_from(["a1", "a2"])),
                             tags=draw(st.sampled_from([[], labels(team="pay")]))))
    frames = {"nodes": nodes, "pods": pods, "bill": bill, "namespaces": ns, "quotas": quotas}
    inputs = AllocationInputs.build(**{k: pl.DataFrame(v) for k, v in frames.items() if v})
    config = parse_config({"allocation": {
        "basis": basis or draw(st.sampled_from(["max", "request", "usage", "quota"])),
        "idle": draw(st.sampled_from(["separate", "share-by-cost", "share-by-request",
                                      "share-by-quota"])),
        "shared_namespaces": draw(st.sampled_from([[], ["kube-*"]])),
        "shared_split": draw(st.sampled_from(["weighted", "even"])),
        "tax_and_credits": draw(st.sampled_from(["unowned", "follow-spend"])),
    }, "teams": draw(st.sampled_from([[], [{"name": "pay"}, {"name": "web"},
                                            {"name": "data"}]]))})
    return inputs, config


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(KEYS, nulls_last=True)


def same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    """Equal rows; money equal to 1e-9 (parallel sums may add in another order)."""
    assert_frame_equal(_sorted(a), _sorted(b), check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    return True


@SETTINGS
@given(worlds())
def test_conservation_and_no_negative_cost(world: tuple[AllocationInputs, FinOpsConfig]) -> None:
    inputs, config = world
    result = allocate(inputs, config, "r")
    assert disagreements(result.reconciliation).height == 0, result.reconciliation
    billed = inputs.bill.group_by("day").agg(pl.col("effective_cost").sum())
    assert result.reconciliation.height >= min(billed.height, 1)
    negative = result.allocation.filter(pl.col("effective_cost") < -1e-9)
    assert set(negative.get_column("cost_kind")) <= {"credit"}


@SETTINGS
@given(worlds())
def test_idempotent_and_partitions_union_equals_window(
        world: tuple[AllocationInputs, FinOpsConfig]) -> None:
    inputs, config = world
    whole = allocate(inputs, config, "r").allocation
    assert same(whole, allocate(inputs, config, "r").allocation)
    per_day = [allocate(inputs.for_day(d), config, "r").allocation for d in inputs.days()]
    by_day = pl.concat(per_day) if per_day else whole.clear()
    assert same(by_day, whole)
    parts = []
    for d in inputs.days():
        rows = [p.run(config) for p in partitions(inputs.for_day(d), config, d)]
        parts.append(collapse(finalize_day(concat_rows(rows), config)))
    union = finish(concat_rows(parts), "r")
    assert same(union, whole)


@SETTINGS
@given(worlds(basis="quota"))
def test_quota_basis_conserves_and_never_exceeds_a_node(
        world: tuple[AllocationInputs, FinOpsConfig]) -> None:
    inputs, config = world
    result = allocate(inputs, config, "r")
    assert disagreements(result.reconciliation).height == 0, result.reconciliation
    rows = result.allocation
    debits = rows.filter(pl.col("cost_kind") != "credit").get_column("effective_cost")
    assert (debits < -1e-9).sum() == 0
    # Quota only moves a node's money between idle and namespaces: per cluster, account and
    # price source the totals are those of basis=max (the cap keeps any node from exceeding).
    as_max = allocate(inputs, config.model_copy(update={"allocation": config.allocation
                                                        .model_copy(update={"basis": "max"})}),
                      "r").allocation
    by = ["day", "cluster", "billing_account_id", "price_source"]

    def totals(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.group_by(by).agg(pl.col("effective_cost").sum().round(6)).sort(
            by, nulls_last=True)

    assert_frame_equal(totals(rows), totals(as_max), check_exact=False, abs_tol=1e-6)


LEVELS = ["pod-label", "workload-label", "namespace-label", "namespace-annotation", "mapping"]


@SETTINGS
@given(st.lists(st.booleans(), min_size=5, max_size=5), st.permutations(LEVELS))
def test_first_rule_in_the_chain_wins(present: list[bool], chain: list[str]) -> None:
    team_of = {level: f"t{i}" for i, level in enumerate(LEVELS)}
    has = dict(zip(LEVELS, present, strict=True))
    pods = pod_rows("p", "n1", "ns", n_hours=1,
                    pod_labels=labels(team=team_of["pod-label"]) if has["pod-label"] else [])
    if has["workload-label"]:
        pods = [{**p, "workload_labels": labels(team=team_of["workload-label"])} for p in pods]
    ns = ns_row("ns", team=team_of["namespace-label"] if has["namespace-label"] else None,
                annotations=labels(team=team_of["namespace-annotation"])
                if has["namespace-annotation"] else [])
    mappings = [{"team": team_of["mapping"], "namespaces": ["n*"]}] if has["mapping"] else []
    config = parse_config({"teams": [{"name": t} for t in team_of.values()],
                           "ownership": {"chain": chain, "mappings": mappings}})
    inputs = AllocationInputs.build(nodes=pl.DataFrame(node_rows("n1", n_hours=1)),
                                    pods=pl.DataFrame(pods), namespaces=pl.DataFrame([ns]))
    rows = allocate(inputs, config, "r").allocation.filter(pl.col("cost_kind") == "cpu")
    winner = next((level for level in chain if has[level]), None)
    assert rows.get_column("team").to_list() == [team_of.get(winner)] if winner else [None]
    assert rows.get_column("owner_rule").to_list() == [winner]

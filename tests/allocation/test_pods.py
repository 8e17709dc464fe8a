"""Pod fractions keep the pod-hours they were computed for, whatever the node-hours look like;
pod keys split pod-hours into facts and attrs without losing who a pod-hour belongs to."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from finops.allocation.nodes import node_hours
from finops.allocation.pod_keys import PodFrame, key_pods
from finops.allocation.pods import pod_fractions
from models.config import parse_config
from models.schemas import K8S_NAMESPACE, K8S_NODE_HOUR, K8S_POD_HOUR, conform
from tests.support.rows import T0, labels, node_rows, ns_row, pod_rows

CONFIG = parse_config({})


def _keys(pods: list[dict], namespaces: list[dict] | None = None) -> PodFrame:
    frame = conform(pl.DataFrame(pods), K8S_POD_HOUR)
    ns = conform(pl.DataFrame(namespaces or [ns_row("ns1")]), K8S_NAMESPACE)
    return key_pods(frame, ns, CONFIG)


def _fractions(nodes: list[dict], pods: list[dict]) -> pl.DataFrame:
    """Pod-hour fractions with the pod's attrs beside them."""
    hours = node_hours(conform(pl.DataFrame(nodes), K8S_NODE_HOUR), CONFIG)
    keyed = _keys(pods)
    fractions = pod_fractions(keyed, hours, pl.DataFrame(), CONFIG)
    return fractions.pods.join(keyed.attrs, on="_pk", maintain_order="left")


def test_every_pod_on_a_known_node_keeps_its_row_and_its_share() -> None:
    pods = (pod_rows("p1", "a", "ns1", cpu_req=1, n_hours=2)
            + pod_rows("p2", "a", "ns2", cpu_req=3, n_hours=2))
    out = _fractions(node_rows("a", cpu=4, n_hours=2), pods)
    assert out.height == 4
    # 1 of 4 cores for 1 of the node's 2 hours: an eighth of the node-day's CPU share.
    p1 = out.filter(pl.col("pod") == "p1")
    assert p1["_q_cpu"].to_list() == [1.0, 1.0]
    ratio = p1["_f_cpu"].sum() / out["_f_cpu"].sum()
    assert abs(ratio - 0.25) < 1e-12


def test_a_pod_on_an_unknown_node_is_dropped_and_the_rest_stay_aligned() -> None:
    pods = (pod_rows("p1", "a", "ns1", cpu_req=1, n_hours=1)
            + pod_rows("lost", "nowhere", "ns1", cpu_req=2, n_hours=1)
            + pod_rows("p3", "a", "ns3", cpu_req=3, n_hours=1))
    out = _fractions(node_rows("a", cpu=4, n_hours=1), pods)
    assert out["pod"].to_list() == ["p1", "p3"]
    assert out["namespace"].to_list() == ["ns1", "ns3"]
    assert out["_q_cpu"].to_list() == [1.0, 3.0]
    assert out["_f_cpu"][1] == 3 * out["_f_cpu"][0]


def test_a_node_hour_listed_twice_counts_its_pods_once_per_listing() -> None:
    """Duplicated usage rows are the collector's bug; the join then pairs each pod with each
    copy (as an inner join does), and the pod columns still travel with their own rows."""
    nodes = node_rows("a", cpu=4, n_hours=1) * 2
    out = _fractions(nodes, pod_rows("p1", "a", "ns1", cpu_req=1, n_hours=1))
    assert out.height == 2
    assert out["pod"].to_list() == ["p1", "p1"]


def test_pods_over_capacity_are_scaled_so_the_node_is_never_exceeded() -> None:
    pods = (pod_rows("p1", "a", "ns1", cpu_req=4, cpu_use=0, n_hours=1)
            + pod_rows("p2", "a", "ns1", cpu_req=4, cpu_use=0, n_hours=1))
    hours = node_hours(conform(pl.DataFrame(node_rows("a", cpu=4, n_hours=1)), K8S_NODE_HOUR),
                       CONFIG)
    fractions = pod_fractions(_keys(pods), hours, pl.DataFrame(), CONFIG)
    node_share = hours["_s_cpu"][0] * hours["_h"][0]
    assert abs(fractions.pods["_f_cpu"].sum() - node_share) < 1e-12
    assert fractions.hours["_uc_cpu"].to_list() == [4.0]  # 8 cores claimed, 4 charged


def test_a_pod_keeps_one_key_a_day_unless_its_labels_change() -> None:
    steady = pod_rows("p1", "a", "ns1", n_hours=3)
    relabelled = pod_rows("p2", "a", "ns1", n_hours=3)
    relabelled[2]["labels"] = labels(team="payments")
    keyed = _keys(steady + relabelled)
    assert keyed.facts.height == 6
    assert keyed.attrs.height == 3
    p2 = keyed.attrs.filter(pl.col("pod") == "p2").sort("pod_value", nulls_last=True)
    assert p2["pod_value"].to_list() == ["payments", None]


def test_a_namespace_relabelled_mid_day_gives_its_pods_the_value_of_each_hour() -> None:
    namespaces = [ns_row("ns1", team="search", valid_to=T0 + timedelta(hours=2)),
                  ns_row("ns1", team="payments", valid_from=T0 + timedelta(hours=2))]
    keyed = _keys(pod_rows("p1", "a", "ns1", n_hours=4), namespaces)
    values = keyed.facts.join(keyed.attrs, on="_pk").sort("hour")["ns_label_value"]
    assert values.to_list() == ["search", "search", "payments", "payments"]

"""Pod fractions keep the pod rows they were computed for, whatever the node-hours look like."""

from __future__ import annotations

import polars as pl

from finops.allocation.nodes import node_hours
from finops.allocation.pods import pod_fractions
from models.config import parse_config
from models.schemas import K8S_NODE_HOUR, K8S_POD_HOUR, conform
from tests.allocation.conftest import node_rows, pod_rows

CONFIG = parse_config({})


def _fractions(nodes: list[dict], pods: list[dict]) -> pl.DataFrame:
    hours = node_hours(conform(pl.DataFrame(nodes), K8S_NODE_HOUR), CONFIG)
    frame = conform(pl.DataFrame(pods), K8S_POD_HOUR)
    return pod_fractions(frame, hours, pl.DataFrame(), CONFIG)


def test_every_pod_on_a_known_node_keeps_its_row_and_its_share() -> None:
    pods = (pod_rows("p1", "a", "ns1", cpu_req=1, n_hours=2)
            + pod_rows("p2", "a", "ns2", cpu_req=3, n_hours=2))
    out = _fractions(node_rows("a", cpu=4, n_hours=2), pods)
    assert out.height == 4
    # 1 of 4 cores for 1 of the node's 2 hours: an eighth of the node-day's CPU share.
    p1 = out.filter(pl.col("pod") == "p1")
    assert p1["_c_cpu"].to_list() == [1.0, 1.0]
    ratio = p1["_f_cpu"].sum() / out["_f_cpu"].sum()
    assert abs(ratio - 0.25) < 1e-12


def test_a_pod_on_an_unknown_node_is_dropped_and_the_rest_stay_aligned() -> None:
    pods = (pod_rows("p1", "a", "ns1", cpu_req=1, n_hours=1)
            + pod_rows("lost", "nowhere", "ns1", cpu_req=2, n_hours=1)
            + pod_rows("p3", "a", "ns3", cpu_req=3, n_hours=1))
    out = _fractions(node_rows("a", cpu=4, n_hours=1), pods)
    assert out["pod"].to_list() == ["p1", "p3"]
    assert out["namespace"].to_list() == ["ns1", "ns3"]
    assert out["_c_cpu"].to_list() == [1.0, 3.0]


def test_a_node_hour_listed_twice_counts_its_pods_once_per_listing() -> None:
    """Duplicated usage rows are the collector's bug; the join then pairs each pod with each
    copy (as an inner join does), and the pod columns still travel with their own rows."""
    nodes = node_rows("a", cpu=4, n_hours=1) * 2
    out = _fractions(nodes, pod_rows("p1", "a", "ns1", cpu_req=1, n_hours=1))
    assert out.height == 2
    assert out["pod"].to_list() == ["p1", "p1"]

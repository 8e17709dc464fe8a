"""Shared rules: effective requests, owner chain, spot labels, sample intervals, history."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from ingestion.k8s import hours as kh


def test_effective_request_is_max_of_init_and_app_sum() -> None:
    assert kh.effective_request([1.0, 0.2], [0.5, 0.25]) == 1.0
    assert kh.effective_request([0.1], [0.5, 0.25]) == 0.75
    assert kh.effective_request([None], [None, 0.3]) == 0.3  # missing requests count 0
    assert kh.effective_request([], []) == 0.0


def test_owner_chain() -> None:
    rs = {("shop", "api-7d9"): ("Deployment", "api")}
    jobs = {("shop", "report-1"): ("CronJob", "report")}
    assert kh.resolve_owner(("ReplicaSet", "api-7d9"), "shop", rs, jobs) == ("Deployment", "api")
    assert kh.resolve_owner(("Job", "report-1"), "shop", rs, jobs) == ("CronJob", "report")
    assert kh.resolve_owner(("ReplicaSet", "orphan"), "shop", rs, jobs) == ("ReplicaSet", "orphan")
    assert kh.resolve_owner(("Job", "report-1"), "other", rs, jobs) == ("Job", "report-1")
    assert kh.resolve_owner(None, "shop", rs, jobs) is None


def test_spot_labels_in_both_spellings() -> None:
    assert kh.is_spot({"eks.amazonaws.com/capacityType": "SPOT"})
    assert kh.is_spot({"cloud.google.com/gke-spot": "true"})
    assert kh.is_spot({"cloud.google.com/gke-preemptible": "true"})
    assert kh.is_spot({"kubernetes.azure.com/scalesetpriority": "spot"})
    assert kh.is_spot({"karpenter_sh_capacity_type": "spot"})  # kube-state-metrics spelling
    assert not kh.is_spot({"eks.amazonaws.com/capacityType": "ON_DEMAND"})
    assert not kh.is_spot({})


def test_intervals_are_capped_and_the_last_gets_the_default() -> None:
    times = [datetime(2026, 10, 1, 10, m) for m in (0, 5, 50)]
    frame = kh.sample_intervals(times, 300, 900)
    assert frame["seconds"].to_list() == [300, 900, 300]  # 45 min gap capped at 15 min


def test_dedupe_takes_max_not_sum() -> None:
    frame = pl.DataFrame({"pod": ["a", "a", "b"], "value": [1.0, 1.0, 2.0]})
    assert kh.dedupe_max(frame, ["pod"], ["value"]).rows() == [("a", 1.0), ("b", 2.0)]


def test_namespace_history_merge_keeps_the_past_and_coalesces() -> None:
    t = [datetime(2026, 10, d) for d in (1, 2, 3)]
    team = [{"key": "team", "value": "a"}]
    existing = pl.DataFrame(
        {
            "cluster": ["c"],
            "namespace": ["ns"],
            "valid_from": [t[0]],
            "valid_to": [None],
            "labels": [team],
            "annotations": [[]],
            "x_source": ["x"],
        },
        schema=kh.K8S_NAMESPACE.schema,
    )
    observed = pl.DataFrame(
        {
            "cluster": ["c", "c"],
            "ts": [t[1], t[2]],
            "namespace": ["ns", "ns"],
            "labels": [team, [{"key": "team", "value": "b"}]],
            "annotations": [[], []],
        },
        schema=kh.NAMESPACE_SAMPLE,
    )
    new = kh.namespace_intervals(observed, open_end=t[2])
    merged = kh.merge_namespace_history(existing, new, t[1], datetime(9999, 1, 1), "test")
    assert merged.select("valid_from", "valid_to").rows() == [(t[0], t[2]), (t[2], None)]

"""The organisation is the one the demo promises: teams, clusters, label mess, churn."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from finops.synthetic import size
from finops.synthetic.org import build_org
from models.config import hash_token, load_config
from models.errors import InputError


def test_pods_and_namespaces(usage: dict[str, pl.DataFrame]) -> None:
    pods = usage["k8s_pod_hour"]
    assert 150 <= pods["pod_uid"].n_unique() <= 260
    assert set(pods["cluster"].unique()) == {"prod-eks", "prod-gke"}
    names = set(usage["k8s_namespace"]["namespace"])
    assert {"kube-system", "monitoring", "ingress-nginx"} <= names
    assert 35 <= usage["k8s_namespace"].select("cluster", "namespace").n_unique() <= 45
    assert pods["cpu_request"].null_count() > 0  # some pods without requests
    assert (pods["cpu_usage"] > pods["cpu_request"]).sum() > 0  # usage above request
    per_slot = pods.group_by("cluster", "namespace", "workload_name").agg(
        pl.col("pod_uid").n_unique())
    assert per_slot["pod_uid"].max() > 1  # churn


def test_label_mess(usage: dict[str, pl.DataFrame]) -> None:
    ns = usage["k8s_namespace"].with_columns(
        team=pl.col("labels").list.eval(pl.element().filter(
            pl.element().struct.field("key") == "team").struct.field("value")).list.first())
    values = set(ns["team"].drop_nulls())
    assert {"Payments", "team-payments", "fraud", "ds-team"} <= values
    assert ns.filter(pl.col("team").is_null())["namespace"].n_unique() >= 5
    assert ns.filter(pl.col("valid_to").is_not_null()).height == 1  # a label fixed mid-month


def test_config_loads(demo: Path) -> None:
    config = load_config(demo / "finops.yaml")
    assert len(config.teams) == 8
    aliases = config.team_aliases()
    assert aliases["payments"] == aliases["team-payments"] == "payments"
    assert "fraud" not in aliases and "ds-team" not in aliases
    assert set(config.allocation.shared_namespaces) == {"kube-system", "monitoring",
                                                        "ingress-nginx"}
    assert not any("456789012345" in m.aws_accounts for m in config.ownership.mappings)
    assert any("acme-data-platform" in m.gcp_projects for m in config.ownership.mappings)
    roles = {t.sha256: t.role for t in config.api_tokens}
    for token, role in {"demo-finance": "finance", "demo-platform": "platform",
                        "demo-team-payments": "team:payments"}.items():
        assert roles[hash_token(token)] == role
    assert {b.team for b in config.budgets} == config.declared_teams


def test_unknown_size_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown size"):
        size("XXL")


def test_size_m_model() -> None:
    org = build_org(size("M"), 7)
    assert 4000 <= len(org.pods) <= 6000
    assert len({n.provider_id for n in org.nodes}) == len(org.nodes)
    assert len({n.name for n in org.nodes}) == len(org.nodes)

"""What the admission policies need from ``finops.yaml`` (and the Backstage catalog's owners).

The policies mirror the engine's ownership chain for what an admission request can see: the
pod's (or pod template's) labels, the workload's labels, the namespace's labels and
annotations, ``ownership.mappings`` namespace globs, and the catalog's namespace and
kubernetes-id owners. Mappings and exemptions restricted to clusters apply only when the
export names the cluster (``--cluster``): one policy set per cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from finops.governance.scope import expired, non_tenant_patterns
from models.config import FinOpsConfig, PolicyName

K8S_STEPS = ("pod-label", "workload-label", "namespace-label", "namespace-annotation",
             "mapping", "backstage")


@dataclass(frozen=True)
class Target:
    """Which cluster the policies are for (None: rules restricted to clusters are left out)
    and the day exemptions are judged against (expired ones are left out)."""

    cluster: str | None
    today: date

    def applies(self, clusters: list[str]) -> bool:
        return not clusters or self.cluster in clusters


def allowed_values(config: FinOpsConfig) -> list[str]:
    """Every spelling a team label may have, lower-cased (empty: any value, zero-config)."""
    return sorted(config.team_aliases())


def mapped_namespaces(config: FinOpsConfig, target: Target) -> list[str]:
    return sorted({glob for rule in config.ownership.mappings if target.applies(rule.clusters)
                   for glob in rule.namespaces})


def catalog_owners(owners: pl.DataFrame, kind: str) -> dict[str, str]:
    """``namespace`` or ``kubernetes-id`` -> owner, first entity wins (as the engine's
    ``unique("match")`` keeps one)."""
    rows = owners.filter(pl.col("kind") == kind).unique("match", keep="first",
                                                         maintain_order=True)
    return dict(zip(rows["match"].to_list(), rows["owner"].to_list(), strict=True))


def exemptions(config: FinOpsConfig, policy: PolicyName, target: Target) -> list[dict[str, Any]]:
    """Exemptions from ``policy`` still in force on ``target.today``, with their expiry (the
    policies re-check it at admission time, so an exemption lapses without a re-export)."""
    return [{"name": e.name, "namespaces": e.namespaces, "until": e.until.isoformat(),
             "who": e.who, "why": e.why}
            for e in config.governance.exemptions
            if policy in e.policies and target.applies(e.clusters)
            and not expired(e, target.today)]


def team_label(config: FinOpsConfig, owners: pl.DataFrame, target: Target) -> dict[str, Any]:
    """The parameters of the team-label policy."""
    return {
        "labelKeys": list(config.ownership.label_keys),
        "allowed": allowed_values(config),
        "chain": [s for s in config.ownership.chain if s in K8S_STEPS],
        "mappedNamespaces": mapped_namespaces(config, target),
        "catalogNamespaces": catalog_owners(owners, "namespace"),
        "catalogIds": catalog_owners(owners, "kubernetes-id"),
        "excludedNamespaces": non_tenant_patterns(config),
        "exemptions": exemptions(config, "team-label", target),
    }


def resource_quota(config: FinOpsConfig, target: Target) -> dict[str, Any]:
    """The parameters of the ResourceQuota policy."""
    return {"excludedNamespaces": non_tenant_patterns(config),
            "exemptions": exemptions(config, "resource-quota", target)}

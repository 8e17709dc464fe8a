"""Which namespaces are tenants', and which exemptions hold: from ``finops.yaml`` alone.

A tenant namespace is one a team runs its workloads in: not a shared namespace
(``allocation.shared_namespaces``, spread to tenants) and not the platform's own
(``governance.platform_namespaces``). Tenant namespaces must carry the team label and a
ResourceQuota, unless an exemption that has not expired names them.
"""

from __future__ import annotations

from datetime import date
from fnmatch import fnmatchcase

from models.config import Exemption, FinOpsConfig, PolicyName


def matches(patterns: list[str], value: str | None) -> bool:
    """``value`` matches one of the shell globs (case-sensitive, as Kubernetes names are)."""
    return value is not None and any(fnmatchcase(value, p) for p in patterns)


def non_tenant_patterns(config: FinOpsConfig) -> list[str]:
    both = [*config.allocation.shared_namespaces, *config.governance.platform_namespaces]
    return list(dict.fromkeys(both))  # once each, in order


def is_tenant(config: FinOpsConfig, namespace: str | None) -> bool:
    return namespace is not None and not matches(non_tenant_patterns(config), namespace)


def covers(exemption: Exemption, cluster: str | None, namespace: str | None) -> bool:
    in_cluster = not exemption.clusters or cluster in exemption.clusters
    return in_cluster and matches(exemption.namespaces, namespace)


def expired(exemption: Exemption, today: date) -> bool:
    """``until`` is the last day it holds."""
    return exemption.until < today


def exemption_for(config: FinOpsConfig, cluster: str | None, namespace: str | None,
                  policy: PolicyName, today: date) -> Exemption | None:
    """The first exemption in force today that exempts the namespace from ``policy``."""
    return next((e for e in config.governance.exemptions
                 if policy in e.policies and not expired(e, today)
                 and covers(e, cluster, namespace)), None)

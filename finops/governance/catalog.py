"""Catalog drift: where the Backstage catalog and the clusters disagree (pure).

An entity speaks for a namespace (``backstage.io/kubernetes-namespace``) or a workload
(``backstage.io/kubernetes-id``, matched against workload names, as the engine's ownership
chain matches it). Three findings:

- ``catalog-owner-mismatch``: a namespace's own team label (or annotation) names another
  team than the catalog's owner of that namespace; at stake: the namespace's spend;
- ``component-without-workload``: a Component that names a namespace or workload where
  nothing ran in the window (a retired service still in the catalog, or a typo); at stake:
  nothing is spent, so 0, and the finding is for the owner to clean up;
- ``workload-without-entity``: a workload with spend in a tenant namespace that no entity
  names, neither by id nor by namespace; at stake: its spend.
"""

from __future__ import annotations

import polars as pl

from finops.governance.findings import Finding, money
from finops.governance.scope import is_tenant
from models.config import FinOpsConfig


def team_of(owner: str | None, config: FinOpsConfig) -> str | None:
    """A catalog owner as a finops team (aliases apply; zero-config: lower-cased)."""
    if not owner:
        return None
    value = owner.strip().lower()
    return config.team_aliases().get(value, value if not config.teams else owner)


def drift(entities: pl.DataFrame, owners: pl.DataFrame, workloads: pl.DataFrame,
          running: pl.DataFrame, config: FinOpsConfig, currency: str | None) -> list[Finding]:
    """Every catalog drift finding; none when no catalog is loaded."""
    if not entities.height:
        return []
    return [*mismatches(entities, owners, config, currency),
            *idle_components(entities, running, config, currency),
            *unlisted_workloads(entities, workloads, config, currency)]


def mismatches(entities: pl.DataFrame, owners: pl.DataFrame, config: FinOpsConfig,
               currency: str | None) -> list[Finding]:
    claims: dict[str, set[str]] = {}
    refs: dict[str, list[str]] = {}
    for row in entities.filter(pl.col("k8s_namespace").is_not_null()).iter_rows(named=True):
        team = team_of(row["owner"], config)
        if team:
            claims.setdefault(row["k8s_namespace"], set()).add(team)
            refs.setdefault(row["k8s_namespace"], []).append(row["ref"])
    out = []
    for row in owners.filter(pl.col("label_team").is_not_null()).iter_rows(named=True):
        said = claims.get(row["namespace"])
        if not said or row["label_team"] in said:
            continue
        out.append(Finding(
            "catalog-owner-mismatch", f"{row['cluster']}/{row['namespace']}",
            f"labelled {row['label_team']}, the catalog says {', '.join(sorted(said))} "
            f"({', '.join(refs[row['namespace']])}); {money(row['cost'], currency)} at stake",
            row["cost"], currency, row["label_team"], row["cluster"], row["namespace"]))
    return out


def idle_components(entities: pl.DataFrame, running: pl.DataFrame, config: FinOpsConfig,
                    currency: str | None) -> list[Finding]:
    names = set(running["workload_name"].drop_nulls().to_list())
    pairs = set(running.select("namespace", "workload_name").iter_rows())
    spaces = set(running["namespace"].to_list())
    components = entities.filter((pl.col("kind").str.to_lowercase() == "component")
                                 & (pl.col("k8s_namespace").is_not_null()
                                    | pl.col("k8s_id").is_not_null()))
    out = []
    for row in components.iter_rows(named=True):
        ns, wid = row["k8s_namespace"], row["k8s_id"]
        runs = ((ns, wid) in pairs if ns and wid else wid in names if wid else ns in spaces)
        if runs:
            continue
        where = " ".join(p for p in (f"namespace {ns}" if ns else "",
                                     f"workload {wid}" if wid else "") if p)
        out.append(Finding("component-without-workload", row["ref"],
                           f"names {where}, where nothing ran in the window", 0.0, currency,
                           team_of(row["owner"], config), namespace=ns))
    return out


def unlisted_workloads(entities: pl.DataFrame, workloads: pl.DataFrame,
                       config: FinOpsConfig, currency: str | None) -> list[Finding]:
    ids = set(entities["k8s_id"].drop_nulls().to_list())
    spaces = set(entities["k8s_namespace"].drop_nulls().to_list())
    out = []
    for row in workloads.sort("cost", descending=True).iter_rows(named=True):
        if (row["workload_name"] in ids or row["namespace"] in spaces
                or not is_tenant(config, row["namespace"])):
            continue
        out.append(Finding(
            "workload-without-entity",
            f"{row['cluster']}/{row['namespace']}/{row['workload_name']}",
            f"no catalog entity names it (by kubernetes-id or namespace); "
            f"{money(row['cost'], currency)} of spend", row["cost"], currency, row["team"],
            row["cluster"], row["namespace"]))
    return out

"""The organisation's ``finops.yaml``: teams, ownership rules, shared namespaces, budgets, tokens.

Budgets are sized from the generator's own rough estimate of each team's month (namespace
core-hours at the cluster's average price, shared costs spread by weight, tagged cloud
resources), so that in the demo ``payments`` overshoots, ``data`` and ``search`` cross 80%
and everybody else stays comfortably inside.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import polars as pl
import yaml

from finops.synthetic import accounts as acc
from finops.synthetic import catalog as cat
from finops.synthetic.model import CloudResource, Org
from finops.synthetic.namespaces import SHARED
from models.config import hash_token

DEMO_TOKENS = {"demo-finance": "finance", "demo-platform": "platform",
               "demo-team-payments": "team:payments", "demo-team-search": "team:search"}
SPEND_TO_BUDGET = {"payments": 1.30, "data": 1.03, "search": 1.0}  # estimated spend / budget
DEFAULT_RATIO = 0.55


def _cloud_month(res: CloudResource, hours: float) -> float:
    months = hours / (31 * 24)
    if res.kind == "rds":
        klass, gb = res.size.split(":")
        return hours * cat.RDS_INSTANCES[klass] + float(gb) * cat.RDS_GP3_GB_MONTH * months
    if res.kind == "s3":
        return float(res.size) * cat.S3_STANDARD_GB_MONTH * months
    if res.kind == "cloudsql":
        vcpu, ram = (float(x) for x in res.size.split(":"))
        return hours * (vcpu * cat.CLOUD_SQL_VCPU_HOUR + ram * cat.CLOUD_SQL_RAM_GIB_HOUR)
    if res.kind == "gcs":
        return float(res.size) * cat.GCS_STANDARD_GB_MONTH * months
    if res.kind == "azure-vm":
        return hours * cat.AZURE_VMS[res.size]
    if res.kind == "azure-disk":
        return cat.AZURE_P10_MONTH * months
    return 0.0


def _namespace_team(org: Org) -> dict[tuple[str, str], str | None]:
    aliases = {t.name: t.name for t in org.teams}
    aliases.update({a.lower(): t.name for t in org.teams for a in t.aliases})
    out: dict[tuple[str, str], str | None] = {}
    for ns in org.namespaces:
        labels = dict(ns.history[-1].labels) | dict(ns.history[-1].annotations)
        value = labels.get("team")
        out[(ns.cluster, ns.name)] = aliases.get(value.lower()) if value else None
    return out


def estimate_spend(org: Org, spend: list[pl.DataFrame]) -> dict[str, float]:
    hours = org.spec.hours
    usage = pl.concat(spend).group_by("cluster", "namespace", maintain_order=True) \
        .agg(pl.col("core_hours").sum())
    owners = _namespace_team(org)
    out: dict[str, float] = defaultdict(float)
    for cluster in org.clusters:
        nodes = [n for n in org.nodes if n.cluster == cluster.name]
        cost = sum((n.end - n.start).total_seconds() / 3600 * n.itype.hourly for n in nodes)
        cores = sum((n.end - n.start).total_seconds() / 3600 * n.itype.vcpu for n in nodes)
        rows = usage.filter(pl.col("cluster") == cluster.name).sort("namespace").iter_rows()
        direct = {ns: ch * cost / cores for _, ns, ch in rows}
        shared = sum(v for ns, v in direct.items() if ns in SHARED) + hours * 0.12
        tenants = sum(v for ns, v in direct.items() if ns not in SHARED)
        for ns, value in direct.items():
            team = owners.get((cluster.name, ns))
            if team and ns not in SHARED:
                out[team] += value * (1 + shared / tenants)
    for res in org.cloud:
        team = dict(res.tags).get("user_team") or dict(res.tags).get("team")
        if res.account == acc.GCP_DATA_PROJECT[0] and not team:
            team = "data"  # the project mapping in finops.yaml
        if team:
            out[team] += _cloud_month(res, hours)
    return dict(out)


def _budget(team: str, spend: float) -> float:
    ratio = SPEND_TO_BUDGET.get(team, DEFAULT_RATIO)
    return float(max(50, round(spend / ratio / 50) * 50))


def build_config(org: Org, spend: list[pl.DataFrame]) -> dict:
    estimate = estimate_spend(org, spend)
    teams = [{"name": t.name, "slack_channel": t.slack_channel,
              **({"aliases": list(t.aliases)} if t.aliases else {})} for t in org.teams]
    budgets = [{"name": f"{t.name}-monthly", "team": t.name, "period": "month",
                "amount": _budget(t.name, estimate.get(t.name, 0.0)), "currency": "USD"}
               for t in org.teams]
    return {
        "teams": teams,
        "ownership": {
            "label_keys": ["team"],
            "tag_keys": ["team", "user:team", "user_team"],
            "mappings": [{"team": "data", "gcp_projects": [acc.GCP_DATA_PROJECT[0]]}],
            "cluster_owners": {},
        },
        "allocation": {"basis": "max", "idle": "separate", "shared_namespaces": list(SHARED),
                       "shared_split": "weighted", "tax_and_credits": "unowned"},
        "budgets": budgets,
        "api_tokens": [{"name": token, "sha256": hash_token(token), "role": role}
                       for token, role in DEMO_TOKENS.items()],
        "governance": {"platform_namespaces": PLATFORM_NAMESPACES, "exemptions": EXEMPTIONS},
    }


# The platform team's own namespaces (beside the shared ones): not tenants, so governance
# does not ask them for a team label or a quota.
PLATFORM_NAMESPACES = ["kube-*", "gmp-*", "argocd", "cert-manager"]


# One exemption in force through the demo's days and one that has expired, so `finops
# governance` and the policy export show both.
EXEMPTIONS = [
    {"name": "sandbox-pilot", "namespaces": ["sandbox-*"], "who": "alice@acme.example",
     "why": "personal sandboxes during the platform pilot; quotas come with the pilot's end",
     "until": "2027-06-30"},
    {"name": "search-experiments-label", "namespaces": ["search-experiments"],
     "policies": ["team-label"], "who": "search-lead@acme.example",
     "why": "namespace created before the label policy; labelled during October",
     "until": "2026-10-15"},
]


HEADER = """\
# finops.yaml of the synthetic demo organisation (generated by `python -m finops.synthetic`).
# Teams, ownership rules and budgets are reviewed in Git like any other config.
# - Aliases map the label typos `Payments` and `team-payments` to payments; the namespace
#   values `fraud` and `ds-team` stay unknown (unowned: unknown-team) on purpose.
# - cluster_owners is empty on purpose: idle capacity shows as unowned `idle-capacity`.
# - The untagged AWS account acme-sandbox is mapped to nobody (unmapped-account).
# - Exemptions: sandboxes are exempt until mid-2027; the search-experiments one has expired.
# - Demo API tokens (plain text in the README.md beside this file): demo-finance, demo-platform,
#   demo-team-payments, demo-team-search.
"""


def write_config(path: Path, org: Org, spend: list[pl.DataFrame]) -> None:
    config = build_config(org, spend)
    path.write_text(HEADER + yaml.safe_dump(config, sort_keys=False, width=100))

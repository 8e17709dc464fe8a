"""Who probably owns an unowned item, with the evidence, and the concrete fix for its reason.

Pure: an item (one place of unowned spend: reason, account, cluster, namespace, service,
resource) and the ``Clues`` read around it (tags and labels, names, the Backstage catalog,
who owns the namespace's other spend) in; a ``Hint`` and a fix text out. A suggestion is only
made where some evidence names a declared team; each piece of evidence says where it was seen,
so a person can check it before acting on it. Evidence, strongest first:

1. a near-miss tag or label key (``Team``, ``owner``, ``squad``… — not one of the keys
   ``ownership.tag_keys`` / ``label_keys`` read) whose value names a team or one of its aliases;
2. the Backstage catalog: a component on that namespace or with that name, or a catalog user
   named in the namespace (``sandbox-alice``) and the groups they belong to;
3. a name (namespace, resource name, the id's last part) that starts with a team or alias;
4. the namespace's other workloads: the team that owns most of the rest of its spend.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any

from models.config import FinOpsConfig

NEAR_MISS = ("team", "owner", "owners", "owning_team", "owningteam", "squad", "group",
             "team_name", "teamname", "cost_owner", "app_owner", "product_team")
PREFIXES = ("team-", "team_", "team:", "group:default/", "group:")
_SPLIT = re.compile(r"[-_./:]+")
ACCOUNT_FIELD = {"aws": "aws_accounts", "google cloud": "gcp_projects", "gcp": "gcp_projects",
                 "microsoft": "azure_subscriptions", "azure": "azure_subscriptions"}


@dataclass(frozen=True)
class Hint:
    team: str
    evidence: tuple[str, ...]


@dataclass
class Clues:
    """What is known around the items: every mapping is keyed as its docstring says."""

    teams: dict[str, str]  # any spelling (lower-case name or alias) -> team
    label_keys: tuple[str, ...] = ("team",)
    tag_keys: tuple[str, ...] = ("team",)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # resource_id -> tags
    names: dict[str, str] = field(default_factory=dict)  # resource_id -> resource name
    namespace_labels: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    workload_labels: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    namespace_owners: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    catalog_namespaces: dict[str, str] = field(default_factory=dict)  # namespace -> owner
    catalog_components: dict[str, str] = field(default_factory=dict)  # name -> owner
    catalog_users: dict[str, list[str]] = field(default_factory=dict)  # user -> groups


def team_spellings(config: FinOpsConfig) -> dict[str, str]:
    """Every lower-cased name and alias of the declared teams -> the team."""
    found: dict[str, str] = {}
    for team in config.teams:
        for spelling in (team.name, *team.aliases):
            found.setdefault(spelling.lower(), team.name)
    return found


def resolve(value: str | None, teams: Mapping[str, str]) -> str | None:
    """The team ``value`` names (its name, an alias, ``team-<name>``, ``group:default/<name>``)."""
    if not value:
        return None
    text = value.strip().lower()
    candidates = [text, *(text[len(p):] for p in PREFIXES if text.startswith(p))]
    return next((teams[c] for c in candidates if c in teams), None)


def _near_miss(key: str, read: Sequence[str]) -> bool:
    norm = key.strip().lower().split("/")[-1].replace("-", "_").removeprefix("user:")
    return key not in read and (norm in NEAR_MISS or norm.endswith(("_team", "_owner")))


def tag_votes(tags: Mapping[str, str], read: Sequence[str], where: str,
              teams: Mapping[str, str]) -> list[tuple[str, str]]:
    """(team, evidence) for each near-miss key of ``tags`` whose value names a team."""
    votes = []
    for key, value in sorted(tags.items()):
        team = resolve(value, teams) if _near_miss(key, read) else None
        if team:
            votes.append((team, f"{where} `{key}={value}` (key not in the ownership keys "
                                f"{', '.join(read)})"))
    return votes


def prefix_vote(name: str | None, what: str, teams: Mapping[str, str]) -> list[tuple[str, str]]:
    """(team, evidence) when ``name`` starts with a team's name or alias (whole words)."""
    if not name:
        return []
    words = [w for w in _SPLIT.split(name.lower()) if w]
    for n in range(len(words), 0, -1):
        team = teams.get("-".join(words[:n])) or teams.get("_".join(words[:n]))
        if team:
            return [(team, f"{what} `{name}` starts with `{'-'.join(words[:n])}` "
                           f"(team {team})")]
    return []


def catalog_votes(item: Mapping[str, Any], clues: Clues,
                  name: str | None) -> list[tuple[str, str]]:
    votes = []
    namespace = item.get("namespace")
    owner = clues.catalog_namespaces.get(namespace or "")
    if owner and resolve(owner, clues.teams):
        votes.append((resolve(owner, clues.teams) or owner,
                      f"Backstage: a component on namespace `{namespace}` is owned by {owner}"))
    for candidate in (name, namespace):
        owner = clues.catalog_components.get((candidate or "").lower())
        if owner and resolve(owner, clues.teams):
            votes.append((resolve(owner, clues.teams) or owner,
                          f"Backstage: component `{candidate}` is owned by {owner}"))
    for word in _SPLIT.split((namespace or name or "").lower()):
        for group in clues.catalog_users.get(word, []):
            team = resolve(group, clues.teams)
            if team:
                votes.append((team, f"Backstage: user `{word}` (in the name "
                                    f"`{namespace or name}`) is a member of {group}"))
    return votes


def namespace_vote(item: Mapping[str, Any], clues: Clues) -> list[tuple[str, str]]:
    place = (item.get("cluster") or "", item.get("namespace") or "")
    found = clues.namespace_owners.get(place)
    if not found or not place[1]:
        return []
    team, share = found
    return [(team, f"{share:.0%} of the other spend in namespace `{place[1]}` on "
                   f"`{place[0]}` is owned by {team}")]


def suggest(item: Mapping[str, Any], clues: Clues) -> Hint | None:
    """The team with the most evidence (ties: the strongest kind first), or None."""
    resource = item.get("resource_id")
    name = clues.names.get(resource or "")
    place = (item.get("cluster") or "", item.get("namespace") or "")
    votes = tag_votes(clues.tags.get(resource or "", {}), clues.tag_keys, "tag", clues.teams)
    votes += tag_votes(clues.namespace_labels.get(place, {}), clues.label_keys,
                       "namespace label", clues.teams)
    for labels in clues.workload_labels.get(place, []):
        votes += tag_votes(labels, clues.label_keys, "workload label", clues.teams)
    votes += catalog_votes(item, clues, name)
    votes += prefix_vote(item.get("namespace"), "namespace", clues.teams)
    votes += prefix_vote(name, "resource name", clues.teams)
    if resource and not name:
        votes += prefix_vote(_SPLIT.split(resource.rstrip("/"))[-1], "resource id", clues.teams)
    votes += namespace_vote(item, clues)
    if not votes:
        return None
    order = {team: (-sum(1 for t, _ in votes if t == team), i)
             for i, (team, _) in reversed(list(enumerate(votes)))}
    best = min(order, key=lambda t: order[t])
    return Hint(best, tuple(dict.fromkeys(e for t, e in votes if t == best)))


def account_field(provider: str | None) -> str:
    return ACCOUNT_FIELD.get((provider or "").lower(), "aws_accounts")


def fix(item: Mapping[str, Any], hint: Hint | None, config: FinOpsConfig) -> str:
    """What to change so the next allocation owns this item (or why it is owned centrally)."""
    team = hint.team if hint else "<team>"
    reason = item.get("reason")
    ns, cluster = item.get("namespace") or "<namespace>", item.get("cluster") or "<cluster>"
    account = item.get("sub_account_id") or "<account>"
    label = config.ownership.label_keys[0] if config.ownership.label_keys else "team"
    tag = config.ownership.tag_keys[0] if config.ownership.tag_keys else "team"
    mapping_ns = f"finops.yaml `ownership.mappings: [{{team: {team}, namespaces: [{ns}]}}]`"
    mapping_acct = (f"finops.yaml `ownership.mappings: [{{team: {team}, "
                    f"{account_field(item.get('provider'))}: [{account}]}}]`")
    fixes = {
        "no-team-label": f"label the namespace: `kubectl label namespace {ns} {label}={team}` "
                         f"(or the workload's pod template), or add {mapping_ns}",
        "unknown-team": f"the `{label}` label names no declared team: add its value to "
                        f"`teams[{team}].aliases` in finops.yaml, or declare it under `teams:`",
        "untagged-resource": f"tag the resource `{tag}={team}` in the cloud, or add "
                             f"{mapping_acct}",
        "unmapped-account": f"add {mapping_acct}, or tag its resources `{tag}={team}`",
        "idle-capacity": f"name the owner of cluster {cluster}'s idle capacity "
                         f"(`ownership.cluster_owners: {{{cluster}: <team>}}`) or share it "
                         "(`allocation.idle: share-by-cost`); or shrink the node pool "
                         "(see the efficiency page)",
        "unmounted-volume": f"delete the volume if nothing needs it, or tag the disk "
                            f"`{tag}={team}`",
        "shared-no-tenant": f"namespace {ns} is shared but no tenant ran on {cluster} those "
                            "days: remove it from `allocation.shared_namespaces` for that "
                            "cluster, or name a `cluster_owners` team",
        "unused-commitment": "a commitment no usage consumed: match the next purchase to "
                             "usage (owned centrally by design)",
        "commitment-purchase": "an up-front commitment fee: owned centrally by design "
                               "(its use is charged to the teams as it is consumed)",
        "unattributed-tax-or-credit": "set `allocation.tax_and_credits: follow-spend` in "
                                      "finops.yaml to spread taxes and credits by spend",
    }
    return fixes.get(str(reason), f"see the reason `{reason}` in the README")


def in_places(item: Mapping[str, Any], namespaces: set[tuple[str, str]],
              globs: Sequence[str], accounts: set[str]) -> bool:
    """Whether a team sees ``item``: in its namespaces (owned or mapped), or, outside
    Kubernetes namespaces, in its accounts."""
    namespace = item.get("namespace")
    if namespace:
        return ((item.get("cluster") or "", namespace) in namespaces
                or any(fnmatch(namespace, g) for g in globs))
    return (item.get("sub_account_id") or "") in accounts

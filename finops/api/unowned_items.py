"""The unowned items one can act on: every place of unowned spend in a window with its money,
first day seen, tags, suggested owner (with evidence) and fix; the team scope of a team lead
(its own namespaces and accounts); sorting, filtering and pages.

Reads come from the request's snapshot (the unowned rollup, ``cost_line`` tags, namespace
and workload labels, the Backstage catalog, the allocation rollups); the reasoning is
``finops.reports.ownership_hints`` (pure). A team lead's places: the namespaces and accounts
its finops.yaml mappings name, and those where it owns more of the window's spend than any
other team (a namespace by its allocated spend; an account by its spend outside Kubernetes).
Only the items inside them are read back to a team token, whatever the query asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from finops.api.reader import SnapshotReader
from finops.reports import ownership_hints as hints
from models.api import Window
from models.config import FinOpsConfig
from models.errors import InputError

ROLLUP = "rollup_unowned_daily"
PLACE = ("provider", "billing_account_id", "sub_account_id", "cluster", "namespace",
         "service_name", "resource_id")
SORTS = {"cost": "effective_cost", "first_seen": "first_seen", "reason": "reason",
         "namespace": "namespace", "account": "sub_account_id", "resource": "resource_id",
         "suggested": "suggested_owner"}
MAX_PER_PAGE = 500


def _table(reader: SnapshotReader) -> tuple[str, str]:
    if {"day", "unowned_reason", "effective_cost", *PLACE} <= reader.columns(ROLLUP):
        return ROLLUP, "TRUE"
    return "allocation", "team IS NULL"


def items(reader: SnapshotReader, window: Window) -> pl.DataFrame:
    """Every place of unowned spend in the window: reason, place, money, first day seen
    (on any day up to the window's end)."""
    table, unowned = _table(reader)
    return reader.frame(
        f"SELECT unowned_reason AS reason, {', '.join(PLACE)}, any_value(currency) AS currency, "
        "sum(effective_cost) FILTER (WHERE day >= $start) AS effective_cost, "
        f"min(day) AS first_seen FROM {table} WHERE {unowned} AND day <= $end GROUP BY ALL "
        "HAVING count(*) FILTER (WHERE day >= $start) > 0 "
        "ORDER BY effective_cost DESC, reason, resource_id",
        {"start": window.start, "end": window.end})


def _pairs(frame: pl.DataFrame, key: str, value: str) -> dict[Any, Any]:
    return dict(zip(frame[key].to_list(), frame[value].to_list(), strict=True))


def _maps(keys: list[str] | None, values: list[str] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in zip(keys or [], values or [], strict=True)
            if k is not None and v is not None}


def resource_tags(reader: SnapshotReader, ids: list[str]) -> pl.DataFrame:
    """resource_id, keys, vals, name: the bill's richest tags and the name of each resource."""
    if not ids or not {"tags", "resource_name"} <= reader.columns("cost_line"):
        return pl.DataFrame({"resource_id": [], "keys": [], "vals": [], "name": []})
    return reader.frame(
        "SELECT resource_id, map_keys(arg_max(tags, cardinality(tags))) AS keys, "
        "map_values(arg_max(tags, cardinality(tags))) AS vals, "
        "any_value(resource_name) AS name FROM cost_line "
        "WHERE resource_id IN (SELECT unnest($ids::VARCHAR[])) GROUP BY resource_id",
        {"ids": ids})


def namespace_labels(reader: SnapshotReader) -> dict[tuple[str, str], dict[str, str]]:
    if not {"labels", "valid_from"} <= reader.columns("k8s_namespace"):
        return {}
    frame = reader.frame("SELECT cluster, namespace, map_keys(arg_max(labels, valid_from)) AS k, "
                         "map_values(arg_max(labels, valid_from)) AS v FROM k8s_namespace "
                         "GROUP BY ALL")
    return {(r["cluster"], r["namespace"]): _maps(r["k"], r["v"])
            for r in frame.iter_rows(named=True)}


def workload_labels(reader: SnapshotReader, window: Window,
                    namespaces: list[str]) -> dict[tuple[str, str], list[dict[str, str]]]:
    """Per (cluster, namespace): the labels of each workload seen there in the window."""
    if not namespaces or "workload_labels" not in reader.columns("k8s_pod_hour"):
        return {}
    frame = reader.frame(
        "SELECT cluster, namespace, workload_name, map_keys(any_value(workload_labels)) AS k, "
        "map_values(any_value(workload_labels)) AS v FROM k8s_pod_hour "
        "WHERE hour >= $start AND hour < $end::DATE + 1 "
        "AND namespace IN (SELECT unnest($ns::VARCHAR[])) GROUP BY ALL",
        {"start": window.start, "end": window.end, "ns": namespaces})
    found: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in frame.iter_rows(named=True):
        found.setdefault((r["cluster"], r["namespace"]), []).append(_maps(r["k"], r["v"]))
    return found


def top_owners(reader: SnapshotReader, window: Window, keys: tuple[str, ...],
               where: str = "TRUE") -> pl.DataFrame:
    """Per ``keys``: the team owning the most of the window's owned spend, and its share."""
    cols = ", ".join(keys)
    return reader.frame(
        f"SELECT {cols}, arg_max(team, cost) AS team, max(cost) / sum(cost) AS share FROM "
        f"(SELECT {cols}, team, sum(effective_cost) AS cost FROM "
        f"{reader.source({'team', *keys})} WHERE team IS NOT NULL AND {where} "
        "AND day BETWEEN $start AND $end GROUP BY ALL HAVING sum(effective_cost) > 0) "
        "GROUP BY ALL", {"start": window.start, "end": window.end})


def catalog(reader: SnapshotReader) -> tuple[dict[str, str], dict[str, str],
                                              dict[str, list[str]]]:
    """(namespace -> owner, component name -> owner, user -> groups) of the catalog."""
    if "k8s_namespace" not in reader.columns("backstage_entity"):
        return {}, {}, {}
    frame = reader.frame("SELECT lower(kind) AS kind, name, owner, k8s_namespace, member_of "
                         "FROM backstage_entity")
    rows = frame.to_dicts()
    return ({r["k8s_namespace"]: r["owner"] for r in rows if r["k8s_namespace"] and r["owner"]},
            {str(r["name"]).lower(): r["owner"] for r in rows
             if r["kind"] == "component" and r["owner"]},
            {str(r["name"]).lower(): list(r["member_of"] or []) for r in rows
             if r["kind"] == "user"})


def clues(reader: SnapshotReader, config: FinOpsConfig, window: Window,
          frame: pl.DataFrame) -> hints.Clues:
    ids = [i for i in frame["resource_id"].unique().to_list() if i]
    tags = resource_tags(reader, ids)
    owners = top_owners(reader, window, ("cluster", "namespace"), "namespace IS NOT NULL")
    by_ns, by_name, users = catalog(reader)
    return hints.Clues(
        teams=hints.team_spellings(config),
        label_keys=tuple(config.ownership.label_keys), tag_keys=tuple(config.ownership.tag_keys),
        tags={r["resource_id"]: _maps(r["keys"], r["vals"]) for r in tags.iter_rows(named=True)},
        names={k: v for k, v in _pairs(tags, "resource_id", "name").items() if v},
        namespace_labels=namespace_labels(reader),
        workload_labels=workload_labels(
            reader, window, [n for n in frame["namespace"].unique().to_list() if n]),
        namespace_owners={(r["cluster"], r["namespace"]): (r["team"], r["share"])
                          for r in owners.iter_rows(named=True)},
        catalog_namespaces=by_ns, catalog_components=by_name, catalog_users=users)


@dataclass(frozen=True)
class Places:
    """A team lead's namespaces (owned most), namespace globs and accounts (mapped)."""

    namespaces: set[tuple[str, str]]
    globs: list[str]
    accounts: set[str]


def team_places(reader: SnapshotReader, config: FinOpsConfig, window: Window,
                team: str) -> Places:
    rules = [m for m in config.ownership.mappings if m.team == team]
    owners = top_owners(reader, window, ("cluster", "namespace"), "namespace IS NOT NULL")
    accounts = top_owners(reader, window, ("sub_account_id",), "cost_kind = 'cloud'")
    return Places(
        namespaces={(r["cluster"], r["namespace"]) for r in owners.iter_rows(named=True)
                    if r["team"] == team},
        globs=[g for m in rules for g in m.namespaces],
        accounts={a for m in rules for a in (*m.aws_accounts, *m.gcp_projects,
                                             *m.azure_subscriptions)}
        | {r["sub_account_id"] for r in accounts.iter_rows(named=True) if r["team"] == team})


def actionable(reader: SnapshotReader, config: FinOpsConfig, window: Window,
               team: str | None) -> list[dict[str, Any]]:
    """Every item the caller may see, with tags, suggested owner, evidence and fix."""
    frame = items(reader, window)
    if team is not None:
        places = team_places(reader, config, window, team)
        frame = frame.filter(pl.Series([hints.in_places(r, places.namespaces, places.globs,
                                                        places.accounts)
                                        for r in frame.iter_rows(named=True)], dtype=pl.Boolean))
    found = clues(reader, config, window, frame) if frame.height else None
    rows = []
    for item in frame.iter_rows(named=True):
        hint = hints.suggest(item, found) if found else None
        rows.append({**item, "effective_cost": round(item["effective_cost"] or 0.0, 2),
                     "first_seen": item["first_seen"].isoformat(),
                     "tags": (found.tags if found else {}).get(item["resource_id"] or "", {}),
                     "suggested_owner": hint.team if hint else None,
                     "evidence": list(hint.evidence) if hint else [],
                     "fix": hints.fix(item, hint, config)})
    return rows


@dataclass(frozen=True)
class Listing:
    """One page of the (filtered, sorted) items and what the whole selection holds."""

    rows: list[dict[str, Any]]
    matching: int
    matching_cost: float
    page: int
    pages: int
    per_page: int


def matching(rows: list[dict[str, Any]], *, sort: str = "cost", descending: bool = True,
             reason: str | None = None, text: str | None = None) -> list[dict[str, Any]]:
    """Filter by reason and by ``text`` (in any id, name, tag or suggestion), sort (nulls
    last either way)."""
    if sort not in SORTS:
        raise InputError(f"sort {sort!r}: expected one of {', '.join(SORTS)}")
    wanted = (text or "").strip().lower()
    kept = [r for r in rows if (not reason or r["reason"] == reason)
            and (not wanted or wanted in _haystack(r))]
    key = SORTS[sort]
    kept.sort(key=lambda r: (r[key] is None, r[key] if r[key] is not None else ""),
              reverse=descending)
    if descending:
        kept = [r for r in kept if r[key] is not None] + [r for r in kept if r[key] is None]
    return kept


def select(rows: list[dict[str, Any]], *, sort: str = "cost", descending: bool = True,
           reason: str | None = None, text: str | None = None, page: int = 1,
           per_page: int = 50) -> Listing:
    """The ``matching`` rows, one page of them."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InputError(f"per_page {per_page}: expected 1..{MAX_PER_PAGE}")
    kept = matching(rows, sort=sort, descending=descending, reason=reason, text=text)
    pages = max(1, -(-len(kept) // per_page))
    if page < 1 or page > pages:
        raise InputError(f"page {page}: expected 1..{pages}")
    return Listing(kept[(page - 1) * per_page: page * per_page], len(kept),
                   round(sum(r["effective_cost"] for r in kept), 2), page, pages, per_page)


def _haystack(row: dict[str, Any]) -> str:
    parts = [str(row[c] or "") for c in (*PLACE, "reason", "suggested_owner")]
    parts += [f"{k}={v}" for k, v in row["tags"].items()]
    return " ".join(parts).lower()

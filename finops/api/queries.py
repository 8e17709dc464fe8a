"""The named read queries behind the API routes and the dashboards (frames out).

Every query takes the caller's team scope: ``team=None`` means every team (and unowned spend
where the query includes it); a team name restricts the rows to that team, in SQL, so a team
token can never receive another team's rows whatever the route does with the frame.
Dimension and step names are looked up in fixed tables; user values are bound parameters.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import polars as pl

from finops.api.reader import SnapshotReader
from finops.rollups import BY_NAME
from models.api import Window
from models.errors import CurrencyError, InputError

UNOWNED = "__unowned__"  # the team key of spend no team owns (OpenCost says __unallocated__)
UNOWNED_ROLLUP = "rollup_unowned_daily"

# API dimension -> the allocation column it groups by (every rollup keeps these names).
DIMENSIONS = {
    "team": "team",
    "namespace": "namespace",
    "cluster": "cluster",
    "provider": "provider",
    "cost_kind": "cost_kind",
    "service": "service_name",
    "sub_account": "sub_account_id",
    "billing_account": "billing_account_id",
    "reason": "unowned_reason",
    "workload": "workload_name",
    "resource": "resource_id",
}
# A Kubernetes label key as a dimension: ``label:<key>`` groups or filters by the value of that
# label on the row's namespace (its newest version in ``k8s_namespace``); rows outside
# Kubernetes, or in a namespace without the label, have none.
LABEL = "label:"
_LABEL_KEY = re.compile(r"[A-Za-z0-9][\w./-]{0,252}")
LABEL_SOURCE = "k8s_namespace"
STEPS = {
    "day": "day",
    "week": "date_trunc('week', day)::DATE",
    "month": "date_trunc('month', day)::DATE",
    "window": "$start::DATE",
}
_FILTER_TERM = re.compile(
    r'(label:[\w./-]+|\w+):((?:"[^"]*"|[^\s+,"]+)(?:,(?:"[^"]*"|[^\s+,"]+))*)')


def is_dimension(name: str) -> bool:
    """A dimension the API groups and filters by: a column's name or ``label:<key>``."""
    return name in DIMENSIONS or (name.startswith(LABEL)
                                  and _LABEL_KEY.fullmatch(name[len(LABEL):]) is not None)


def expression(name: str) -> str:
    """The SQL of a dimension: its column; unowned spend is the ``__unowned__`` team; a label
    is the value column of its join (``label_joins``)."""
    if name.startswith(LABEL):
        return f'"{name}".value'
    column = DIMENSIONS[name]
    return f"coalesce(team, '{UNOWNED}')" if name == "team" else column


def columns_of(names: list[str]) -> set[str]:
    """The allocation columns the dimensions ``names`` read (a label: cluster and namespace)."""
    return {c for n in names
            for c in (("cluster", "namespace") if n.startswith(LABEL) else (DIMENSIONS[n],))}


def label_joins(reader: SnapshotReader, names: list[str]) -> tuple[str, dict[str, Any]]:
    """LEFT JOINs giving each ``label:<key>`` of ``names`` a ``"label:<key>".value`` (the
    namespace's newest value of that label; none without the namespace table)."""
    joins, params = [], {}
    have = reader.columns(LABEL_SOURCE) >= {"cluster", "namespace", "labels", "valid_from"}
    for i, name in enumerate(dict.fromkeys(n for n in names if n.startswith(LABEL))):
        params[f"label_{i}"] = name[len(LABEL):]
        inner = (f"SELECT cluster, namespace, arg_max(labels[$label_{i}], valid_from) AS value "
                 f"FROM {LABEL_SOURCE} GROUP BY ALL") if have else \
            "SELECT NULL::VARCHAR AS cluster, NULL::VARCHAR AS namespace, NULL::VARCHAR AS value"
        joins.append(f'LEFT JOIN ({inner}) AS "{name}" USING (cluster, namespace)')
    return " ".join(joins), params


def label_keys(reader: SnapshotReader) -> list[str]:
    """Every label key on a namespace (what the group-by control offers as ``label:<key>``)."""
    if not {"labels"} <= reader.columns(LABEL_SOURCE):
        return []
    return reader.generation.fact("label_keys", lambda: sorted(
        str(k) for k in reader.frame(f"SELECT DISTINCT unnest(map_keys(labels)) AS k "
                                     f"FROM {LABEL_SOURCE}")["k"].to_list()
        if k is not None and _LABEL_KEY.fullmatch(str(k))))


def parse_filters(texts: list[str]) -> dict[str, list[str]]:
    """``namespace:"a","b"+cluster:c`` (OpenCost style; repeat ``filter`` to AND more)."""
    filters: dict[str, list[str]] = {}
    for text in texts:
        terms = list(_FILTER_TERM.finditer(text))
        if not terms:
            raise InputError(f"filter {text!r}: expected key:value, e.g. namespace:\"payments\"")
        for term in terms:
            key = term.group(1)
            if not is_dimension(key):
                raise InputError(f"filter key {key!r}: expected one of {sorted(DIMENSIONS)} "
                                 "or label:<key>")
            values = [v.strip('"') for v in re.findall(r'"[^"]*"|[^,]+', term.group(2))]
            filters.setdefault(key, []).extend(values)
    return filters


def _where(window: Window, team: str | None, filters: dict[str, list[str]] | None = None,
           ) -> tuple[str, dict[str, Any]]:
    clauses = ["day BETWEEN $start AND $end"]
    params: dict[str, Any] = {"start": window.start, "end": window.end}
    if team is not None:
        clauses.append("team = $scope_team")
        params["scope_team"] = team
    for i, (key, values) in enumerate(sorted((filters or {}).items())):
        names = [f"f{i}_{j}" for j in range(len(values))]
        params.update(zip(names, values, strict=True))
        clauses.append(f"{expression(key)} IN ({', '.join('$' + n for n in names)})")
    return " AND ".join(clauses), params


def _scoped(team: str | None, *columns: str) -> set[str]:
    """The columns a query reads: ``columns``, and ``team`` when it is scoped to a team."""
    return {*columns, *(("team",) if team is not None else ())}


def currency(reader: SnapshotReader, window: Window) -> str | None:
    """The currency of every amount in the window (the allocation's reporting currency), None
    when nothing is allocated there. Amounts in two currencies are never added up: a window
    that holds both (a warehouse migrated with mixed bills, not allocated again) is a 409."""
    found = reader.frame(f"SELECT DISTINCT currency FROM {reader.source({'currency'})} "
                         "WHERE day BETWEEN $start AND $end ORDER BY 1",
                         {"start": window.start, "end": window.end})["currency"].to_list()
    if len(found) > 1:
        raise CurrencyError(
            f"the allocation holds {' and '.join(str(c) for c in found)} amounts in "
            f"{window.start} .. {window.end}, which cannot be added up: allocate those days "
            "again (`finops allocate`) to convert them to one reporting currency")
    return found[0] if found else None


def allocation(reader: SnapshotReader, window: Window, aggregate: list[str], step: str,
               team: str | None, filters: dict[str, list[str]]) -> pl.DataFrame:
    """OpenCost-like allocation query: sums per step period and aggregate keys (columns or
    ``label:<key>``)."""
    where, params = _where(window, team, filters)
    table = reader.source(_scoped(team, *columns_of([*aggregate, *filters])))
    joins, label_params = label_joins(reader, [*aggregate, *filters])
    keys = [f'{expression(name)} AS "{name}"' for name in aggregate]
    select = ", ".join([f"{STEPS[step]} AS period_start", *keys])
    return reader.frame(
        f"SELECT {select}, sum(billed_cost) AS billed_cost, sum(effective_cost) AS "
        f"effective_cost, sum(list_cost) AS list_cost FROM {table} {joins} WHERE {where} "
        f"GROUP BY ALL ORDER BY ALL",
        {**params, **label_params},
    )


def team_totals(reader: SnapshotReader, window: Window, team: str | None) -> pl.DataFrame:
    """team, effective_cost of the teams that own spend in the window (as ``cost_by_team_daily``
    counts it: unowned spend is not a team here)."""
    where, params = _where(window, team)
    return reader.frame(
        f"SELECT team, sum(effective_cost) AS effective_cost FROM {reader.source({'team'})} "
        f"WHERE {where} AND team IS NOT NULL GROUP BY team ORDER BY effective_cost DESC",
        params,
    )


def spend_by_team_daily(reader: SnapshotReader, window: Window, team: str | None) -> pl.DataFrame:
    """day, team, effective_cost; unowned spend is the ``__unowned__`` team (org views only)."""
    where, params = _where(window, team)
    return reader.frame(
        f"SELECT day, {expression('team')} AS team, sum(effective_cost) AS effective_cost "
        f"FROM {reader.source({'team'})} WHERE {where} GROUP BY ALL ORDER BY day, team",
        params,
    )


def grouped(reader: SnapshotReader, window: Window, team: str, column: str,
            by_day: bool = False, limit: int | None = None) -> pl.DataFrame:
    """One team's spend by a dimension (``cost_kind``, ``namespace``, ...), optionally per day."""
    where, params = _where(window, team)
    day = "day, " if by_day else ""
    order = "day, effective_cost DESC" if by_day else "effective_cost DESC"
    tail = f" LIMIT {int(limit)}" if limit else ""
    table = reader.source({"team", DIMENSIONS[column]})
    return reader.frame(
        f"SELECT {day}{expression(column)} AS name, sum(effective_cost) AS "
        f"effective_cost FROM {table} WHERE {where} GROUP BY ALL ORDER BY {order}{tail}",
        params,
    )


def team_daily(reader: SnapshotReader, window: Window, team: str) -> pl.DataFrame:
    where, params = _where(window, team)
    return reader.frame(
        f"SELECT day, sum(effective_cost) AS effective_cost FROM {reader.source({'team'})} "
        f"WHERE {where} GROUP BY day ORDER BY day",
        params,
    )


def has_spend(reader: SnapshotReader, team: str) -> bool:
    """Whether ``team`` owns any allocated row, on any day."""
    return reader.scalar(f"SELECT count(*) FROM (SELECT 1 FROM {reader.source({'team'})} "
                         "WHERE team = $t LIMIT 1)", {"t": team}) == 1


def previous(window: Window) -> Window:
    """The window of the same length just before ``window``."""
    length = (window.end - window.start).days + 1
    return Window(start=window.start - timedelta(days=length),
                  end=window.start - timedelta(days=1))


def total(reader: SnapshotReader, window: Window, team: str | None) -> float:
    where, params = _where(window, team)
    value = reader.scalar(f"SELECT sum(effective_cost) FROM {reader.source(_scoped(team))} "
                          f"WHERE {where}", params)
    return float(value or 0.0)


def _unowned(reader: SnapshotReader, *columns: str) -> tuple[str, str]:
    """(table, clause) for a read of unowned spend only: the smallest rollup that has the
    columns (restricted to unowned rows), else the unowned rollup, else the allocation."""
    table = reader.source({"team", *columns})
    if table == "allocation" and {"day", *columns} <= reader.columns(UNOWNED_ROLLUP):
        return UNOWNED_ROLLUP, "TRUE"
    return table, "team IS NULL"


def unowned_by_reason(reader: SnapshotReader, window: Window) -> pl.DataFrame:
    table, unowned = _unowned(reader, "unowned_reason")
    return reader.frame(
        f"SELECT unowned_reason AS name, sum(effective_cost) AS effective_cost FROM {table} "
        f"WHERE {unowned} AND day BETWEEN $start AND $end GROUP BY ALL "
        "ORDER BY effective_cost DESC",
        {"start": window.start, "end": window.end},
    )


def unowned_daily_by_reason(reader: SnapshotReader, window: Window) -> pl.DataFrame:
    """day, name (the reason), effective_cost."""
    table, unowned = _unowned(reader, "unowned_reason")
    return reader.frame(
        f"SELECT day, unowned_reason AS name, sum(effective_cost) AS effective_cost "
        f"FROM {table} WHERE {unowned} AND day BETWEEN $start AND $end GROUP BY ALL "
        "ORDER BY day, name",
        {"start": window.start, "end": window.end},
    )


UNOWNED_PLACE = ("provider", "sub_account_id", "cluster", "namespace", "service_name",
                 "resource_id")


def unowned_items(reader: SnapshotReader, window: Window, limit: int) -> pl.DataFrame:
    table, unowned = _unowned(reader, "unowned_reason", *UNOWNED_PLACE)
    return reader.frame(
        f"SELECT unowned_reason AS reason, {', '.join(UNOWNED_PLACE)}, "
        f"sum(effective_cost) AS effective_cost FROM {table} "
        f"WHERE {unowned} AND day BETWEEN $start AND $end GROUP BY ALL "
        f"ORDER BY effective_cost DESC, reason, resource_id LIMIT {int(limit)}",
        {"start": window.start, "end": window.end},
    )


def allocated_share_daily(reader: SnapshotReader, window: Window) -> pl.DataFrame:
    """day, total_effective_cost, allocated_effective_cost, allocated_pct: the FinOps KPI
    "% of spend allocated", per day, with the amounts it divides."""
    return reader.frame(
        "SELECT day, sum(effective_cost) AS total_effective_cost, "
        "coalesce(sum(effective_cost) FILTER (WHERE team IS NOT NULL), 0) "
        "AS allocated_effective_cost, 100 * sum(effective_cost) FILTER (WHERE team IS NOT NULL) "
        f"/ nullif(sum(effective_cost), 0) AS allocated_pct FROM {reader.source({'team'})} "
        "WHERE day BETWEEN $start AND $end GROUP BY day ORDER BY day",
        {"start": window.start, "end": window.end},
    )


def team_movers(reader: SnapshotReader, window: Window, days: int = 7) -> pl.DataFrame:
    """team, previous, current: the last ``days`` days of the window against the ``days``
    before them (week over week by default), unowned included as ``__unowned__``."""
    current = Window(start=window.end - timedelta(days=days - 1), end=window.end)
    before = previous(current)
    return reader.frame(
        f"SELECT {expression('team')} AS team, "
        "coalesce(sum(effective_cost) FILTER (WHERE day < $cur), 0) AS previous, "
        "coalesce(sum(effective_cost) FILTER (WHERE day >= $cur), 0) AS current "
        f"FROM {reader.source({'team'})} WHERE day BETWEEN $start AND $end GROUP BY ALL "
        "ORDER BY team",
        {"start": before.start, "end": current.end, "cur": current.start},
    )


def explain_rows(reader: SnapshotReader, window: Window, team: str) -> pl.DataFrame:
    """A team's allocation rows in the window, summed over what ``explain_team`` never reads
    (workload, node, resource): the same breakdown from far fewer rows."""
    keys = ", ".join(EXPLAINED)
    return reader.frame(
        f"SELECT day, team, {keys}, sum(billed_cost) AS billed_cost, sum(effective_cost) AS "
        "effective_cost FROM allocation WHERE team = $team AND day BETWEEN $start AND $end "
        "GROUP BY ALL",
        {"team": team, "start": window.start, "end": window.end},
    )


EXPLAINED = ("cost_kind", "shared_from", "cluster", "namespace", "owner_rule", "provider",
             "sub_account_id", "service_name", "billing_account_id", "price_source", "currency")


def view_rows(reader: SnapshotReader, view: str, window: Window) -> list[dict[str, Any]] | None:
    """All rows of an optional view (``label_coverage``...), limited to the window when the
    view has a ``day`` column; None when the warehouse does not have the view yet. Read from
    its rollup (``rollup_<view>``, the view kept at publish) when the snapshot has one."""
    if not reader.has_view(view):
        return None
    kept = f"rollup_{view}"
    table = kept if kept in BY_NAME and reader.columns(kept) else view
    columns = reader.frame(f"DESCRIBE {table}")["column_name"].to_list()
    where = " WHERE day BETWEEN $start AND $end" if "day" in columns else ""
    params = {"start": window.start, "end": window.end} if where else {}
    return reader.frame(f"SELECT * FROM {table}{where} ORDER BY ALL LIMIT 10000",
                        params).to_dicts()


def catalog_entity(reader: SnapshotReader, ref: str) -> dict[str, Any] | None:
    """A Backstage catalog entity by ref (``component:default/checkout-api``; the kind and
    namespace may be left out), as ``finops ingest backstage`` loaded it."""
    if not reader.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                         "'backstage_entity'"):
        return None
    wanted = ref.strip().lower()
    frame = reader.frame(
        "SELECT * FROM backstage_entity WHERE ref = $ref OR ref LIKE '%:' || $ref "
        "OR ref LIKE '%/' || $ref ORDER BY ref = $ref DESC, ref LIMIT 1", {"ref": wanted})
    return frame.to_dicts()[0] if frame.height else None


def user_groups(reader: SnapshotReader, user: str) -> list[str]:
    """The groups a catalog user belongs to: its ``memberOf`` and groups listing it."""
    if not reader.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                         "'backstage_entity'"):
        return []
    name = user.strip().split(":", 1)[-1].split("/", 1)[-1]
    frame = reader.frame(
        "SELECT DISTINCT unnest(member_of) AS grp FROM backstage_entity "
        "WHERE lower(kind) = 'user' AND name = $name "
        "UNION SELECT name FROM backstage_entity "
        "WHERE lower(kind) = 'group' AND list_contains(members, $name) ORDER BY 1",
        {"name": name})
    return [str(g) for g in frame["grp"].to_list()]

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
from models.api import Window
from models.errors import CurrencyError, InputError

UNOWNED = "__unowned__"  # the team key of spend no team owns (OpenCost says __unallocated__)

DIMENSIONS = {
    "team": f"coalesce(team, '{UNOWNED}')",
    "namespace": "namespace",
    "cluster": "cluster",
    "provider": "provider",
    "cost_kind": "cost_kind",
    "service": "service_name",
    "sub_account": "sub_account_id",
    "billing_account": "billing_account_id",
    "reason": "unowned_reason",
    "workload": "workload_name",
}
STEPS = {
    "day": "day",
    "week": "date_trunc('week', day)::DATE",
    "month": "date_trunc('month', day)::DATE",
    "window": "$start::DATE",
}
_FILTER_TERM = re.compile(r'(\w+):((?:"[^"]*"|[^\s+,"]+)(?:,(?:"[^"]*"|[^\s+,"]+))*)')


def parse_filters(texts: list[str]) -> dict[str, list[str]]:
    """``namespace:"a","b"+cluster:c`` (OpenCost style; repeat ``filter`` to AND more)."""
    filters: dict[str, list[str]] = {}
    for text in texts:
        terms = list(_FILTER_TERM.finditer(text))
        if not terms:
            raise InputError(f"filter {text!r}: expected key:value, e.g. namespace:\"payments\"")
        for term in terms:
            key = term.group(1)
            if key not in DIMENSIONS:
                raise InputError(f"filter key {key!r}: expected one of {sorted(DIMENSIONS)}")
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
        clauses.append(f"{DIMENSIONS[key]} IN ({', '.join('$' + n for n in names)})")
    return " AND ".join(clauses), params


def currency(reader: SnapshotReader, window: Window) -> str | None:
    """The currency of every amount in the window (the allocation's reporting currency), None
    when nothing is allocated there. Amounts in two currencies are never added up: a window
    that holds both (a warehouse migrated with mixed bills, not allocated again) is a 409."""
    found = reader.frame("SELECT DISTINCT currency FROM allocation "
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
    """OpenCost-like allocation query: sums per step period and aggregate keys."""
    where, params = _where(window, team, filters)
    keys = [f'{DIMENSIONS[name]} AS "{name}"' for name in aggregate]
    select = ", ".join([f"{STEPS[step]} AS period_start", *keys])
    return reader.frame(
        f"SELECT {select}, sum(billed_cost) AS billed_cost, sum(effective_cost) AS "
        f"effective_cost, sum(list_cost) AS list_cost FROM allocation WHERE {where} "
        f"GROUP BY ALL ORDER BY ALL",
        params,
    )


def team_totals(reader: SnapshotReader, window: Window, team: str | None) -> pl.DataFrame:
    where, params = _where(window, team)
    return reader.frame(
        f"SELECT team, sum(effective_cost) AS effective_cost FROM cost_by_team_daily "
        f"WHERE {where} GROUP BY team ORDER BY effective_cost DESC",
        params,
    )


def spend_by_team_daily(reader: SnapshotReader, window: Window, team: str | None) -> pl.DataFrame:
    """day, team, effective_cost; unowned spend is the ``__unowned__`` team (org views only)."""
    where, params = _where(window, team)
    return reader.frame(
        f"SELECT day, {DIMENSIONS['team']} AS team, sum(effective_cost) AS effective_cost "
        f"FROM allocation WHERE {where} GROUP BY ALL ORDER BY day, team",
        params,
    )


def grouped(reader: SnapshotReader, window: Window, team: str, column: str,
            by_day: bool = False, limit: int | None = None) -> pl.DataFrame:
    """One team's spend by a column (``cost_kind``, ``namespace``, ...), optionally per day."""
    where, params = _where(window, team)
    day = "day, " if by_day else ""
    order = "day, effective_cost DESC" if by_day else "effective_cost DESC"
    tail = f" LIMIT {int(limit)}" if limit else ""
    return reader.frame(
        f"SELECT {day}{DIMENSIONS.get(column, column)} AS name, sum(effective_cost) AS "
        f"effective_cost FROM allocation WHERE {where} GROUP BY ALL ORDER BY {order}{tail}",
        params,
    )


def team_daily(reader: SnapshotReader, window: Window, team: str) -> pl.DataFrame:
    where, params = _where(window, team)
    return reader.frame(
        f"SELECT day, sum(effective_cost) AS effective_cost FROM allocation WHERE {where} "
        f"GROUP BY day ORDER BY day",
        params,
    )


def previous(window: Window) -> Window:
    """The window of the same length just before ``window``."""
    length = (window.end - window.start).days + 1
    return Window(start=window.start - timedelta(days=length),
                  end=window.start - timedelta(days=1))


def total(reader: SnapshotReader, window: Window, team: str | None) -> float:
    where, params = _where(window, team)
    value = reader.scalar(f"SELECT sum(effective_cost) FROM allocation WHERE {where}", params)
    return float(value or 0.0)


def unowned_by_reason(reader: SnapshotReader, window: Window) -> pl.DataFrame:
    return reader.frame(
        "SELECT reason AS name, sum(effective_cost) AS effective_cost FROM unowned_spend "
        "WHERE day BETWEEN $start AND $end GROUP BY ALL ORDER BY effective_cost DESC",
        {"start": window.start, "end": window.end},
    )


def unowned_items(reader: SnapshotReader, window: Window, limit: int) -> pl.DataFrame:
    return reader.frame(
        "SELECT reason, provider, sub_account_id, cluster, namespace, service_name, "
        "resource_id, sum(effective_cost) AS effective_cost FROM unowned_spend "
        "WHERE day BETWEEN $start AND $end GROUP BY ALL "
        f"ORDER BY effective_cost DESC, reason, resource_id LIMIT {int(limit)}",
        {"start": window.start, "end": window.end},
    )


def allocated_share_daily(reader: SnapshotReader, window: Window) -> pl.DataFrame:
    """day, allocated_pct: the FinOps KPI "% of spend allocated", per day."""
    return reader.frame(
        "SELECT day, 100 * sum(effective_cost) FILTER (WHERE team IS NOT NULL) "
        "/ nullif(sum(effective_cost), 0) AS allocated_pct FROM allocation "
        "WHERE day BETWEEN $start AND $end GROUP BY day ORDER BY day",
        {"start": window.start, "end": window.end},
    )


def team_movers(reader: SnapshotReader, window: Window, days: int = 7) -> pl.DataFrame:
    """team, previous, current: the last ``days`` days of the window against the ``days``
    before them (week over week by default), unowned included as ``__unowned__``."""
    current = Window(start=window.end - timedelta(days=days - 1), end=window.end)
    before = previous(current)
    return reader.frame(
        f"SELECT {DIMENSIONS['team']} AS team, "
        "coalesce(sum(effective_cost) FILTER (WHERE day < $cur), 0) AS previous, "
        "coalesce(sum(effective_cost) FILTER (WHERE day >= $cur), 0) AS current "
        "FROM allocation WHERE day BETWEEN $start AND $end GROUP BY ALL ORDER BY team",
        {"start": before.start, "end": current.end, "cur": current.start},
    )


def view_rows(reader: SnapshotReader, view: str, window: Window) -> list[dict[str, Any]] | None:
    """All rows of an optional view (``label_coverage``...), limited to the window when the
    view has a ``day`` column; None when the warehouse does not have the view yet."""
    if not reader.has_view(view):
        return None
    columns = reader.frame(f"DESCRIBE {view}")["column_name"].to_list()
    where = " WHERE day BETWEEN $start AND $end" if "day" in columns else ""
    params = {"start": window.start, "end": window.end} if where else {}
    return reader.frame(f"SELECT * FROM {view}{where} LIMIT 10000", params).to_dicts()


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

"""Retention: raw usage and bill lines kept N months, allocation and rollups for ever (by
default), applied by ``finops retention apply`` and every ``finops run``.

Months count back from the newest allocated day, to a month's first day (``cut``). Raw rows
(``k8s_*_hour``, ``cost_line``) of a day go only once the day is allocated under today's
configuration and not marked changed since: the cut stops at the first day that is not
(``Plan.held_at``), so retention never removes what an allocation still needs. A bill line
goes when its whole charge period lies before the cut. What is removed is one load through
the warehouse's write path (recorded in ``ingest_runs`` as ``retention``) that marks no day
changed; it records each table's first kept day in ``retention``, and the allocation never
allocates a day before the raw data's (``finops.pipeline.incremental.kept_from``).

DuckDB frees the blocks of deleted rows for reuse by later loads, but truncates its file
only when the free blocks are at its end: ``Storage`` reports both (the file's size, and the
bytes free inside it), measured after a CHECKPOINT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl

from finops.changes import scalar
from finops.settings import RetentionSettings
from finops.warehouse import CursorReader, Storage, Warehouse
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import (
    ALLOCATED_DAY,
    ALLOCATION,
    CHANGED_DAY,
    COST_LINE,
    K8S_HOURLY,
    RETENTION,
    Table,
)


@dataclass(frozen=True)
class Cut:
    """Rows of ``table`` matching ``where`` (bound to the first kept day, ``$kept``) go."""

    table: Table
    where: str
    kept_from: date
    rows: int = 0


@dataclass
class Plan:
    newest: date | None  # the newest allocated day, that months count back from
    cuts: list[Cut] = field(default_factory=list)
    held_at: date | None = None  # the first day not safely allocated, when it held a cut back

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.cuts)


@dataclass(frozen=True)
class Report:
    plan: Plan
    before: Storage
    after: Storage


def plan(reader: CursorReader, settings: RetentionSettings, fingerprint: str) -> Plan:
    """What retention would remove now (``fingerprint``: today's allocation configuration)."""
    newest: date | None = scalar(reader.con, "SELECT max(day) FROM allocated_day", {})
    found = Plan(newest)
    if newest is None:
        return found  # nothing allocated: every raw row is still needed
    raw = [Cut(table, "hour < $kept", month_start(newest, settings.usage_months))
           for table in (h.table for h in K8S_HOURLY) if settings.usage_months]
    if settings.bill_months:
        raw.append(Cut(COST_LINE, "charge_period_end <= $kept",
                       month_start(newest, settings.bill_months)))
    held = first_unsafe(reader, fingerprint, max((c.kept_from for c in raw), default=newest))
    if held is not None and any(held < c.kept_from for c in raw):
        found.held_at = held
        raw = [Cut(c.table, c.where, min(c.kept_from, held)) for c in raw]
    found.cuts += raw
    if settings.allocation_months:
        cut = month_start(newest, settings.allocation_months)
        found.cuts += [Cut(ALLOCATION, "day < $kept", cut), Cut(ALLOCATED_DAY, "day < $kept", cut)]
    if settings.rollup_months:
        cut = month_start(newest, settings.rollup_months)
        found.cuts += [Cut(Table(name, pl.Schema(), ()), "day < $kept", cut)
                       for name in rollup_tables(reader)]
    found.cuts = [counted(reader, cut) for cut in found.cuts]
    return found


def apply(wh: Warehouse, found: Plan) -> Report:
    """Remove what ``found`` plans, in one load; measure the file before and after."""
    before = wh.storage()
    cuts = [c for c in found.cuts if c.rows]
    if cuts:
        wh.load(retire(cuts, found.cuts))
    return Report(found, before, wh.storage() if cuts else before)


def retire(cuts: list[Cut], every: list[Cut]) -> Load:
    """The load removing ``cuts``' rows (no rows inserted, no day marked changed), recording
    each planned table's first kept day and dropping the marks of days before the raw cut."""
    replaces = [Replace(c.table, f"SELECT * FROM {c.table.name} WHERE false", c.where,
                        {"kept": c.kept_from}) for c in cuts]
    kept = pl.DataFrame({"table_name": [c.table.name for c in every],
                         "kept_from": [c.kept_from for c in every],
                         "applied_at": datetime.now()}, schema_overrides={"kept_from": pl.Date})
    replaces.append(Replace(RETENTION, kept, "list_contains($tables, table_name)",
                            {"tables": kept["table_name"].to_list()}))
    raw = [c.kept_from for c in every if c.table.days is not None]
    if raw:
        replaces.append(Replace(CHANGED_DAY, CHANGED_DAY.empty(), "day < $kept",
                                {"kept": max(raw)}))
    first = min(c.kept_from for c in cuts)
    run = IngestRun(new_run_id("retention"), "retention", None, datetime.combine(first, _midnight),
                    [c.table.name for c in cuts])
    return Load(run, replaces, marks_days=False)


def first_unsafe(reader: CursorReader, fingerprint: str, before: date) -> date | None:
    """The first day (before ``before``, where cuts can fall) whose raw data an allocation may
    still need: marked changed, allocated under another configuration, or holding usage or
    bill lines and never allocated."""
    return scalar(reader.con, """
        SELECT min(day) FROM (
            SELECT min(day) AS day FROM changed_day
            UNION ALL SELECT min(day) FROM allocated_day
                WHERE config_fingerprint IS DISTINCT FROM $f
            UNION ALL SELECT min(CAST(hour AS DATE)) FROM k8s_pod_hour WHERE hour < $before
                AND CAST(hour AS DATE) NOT IN (SELECT day FROM allocated_day)
            UNION ALL SELECT min(CAST(hour AS DATE)) FROM k8s_node_hour WHERE hour < $before
                AND CAST(hour AS DATE) NOT IN (SELECT day FROM allocated_day)
            UNION ALL SELECT min(CAST(charge_period_start AS DATE)) FROM cost_line
                WHERE charge_period_start < $before
                AND CAST(charge_period_start AS DATE) NOT IN (SELECT day FROM allocated_day)
        )""", {"f": fingerprint, "before": before})


def counted(reader: CursorReader, cut: Cut) -> Cut:
    rows = scalar(reader.con, f"SELECT count(*) FROM {cut.table.name} WHERE {cut.where}",
                  {"kept": cut.kept_from})
    return Cut(cut.table, cut.where, cut.kept_from, int(rows or 0))


def rollup_tables(reader: CursorReader) -> list[str]:
    """The serving rollups in the warehouse (tables named ``rollup_*`` with a ``day``)."""
    rows = reader.con.execute(
        "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_name LIKE "
        "'rollup\\_%' ESCAPE '\\' AND column_name = 'day' ORDER BY 1").fetchall()
    return [name for (name,) in rows]


def month_start(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


_midnight = datetime.min.time()

"""The days each load changed, recorded inside ``Warehouse.load``; what the allocation owes.

Every table the allocation reads declares how its rows map to UTC days
(``models.schemas.Days``). For each partition a load replaces, ``Change`` takes a fingerprint
per day (rows, and the sum of a hash of every column but the load stamps) of the rows about
to be deleted and of the rows that replaced them, in the load's own transaction; the days
whose fingerprints differ are the days the load changed, and go into ``changed_day``. So a
bill delivered again unchanged marks nothing, a restated billing period marks the days whose
lines moved, a new day of usage marks that day, and a namespace relabelled at noon marks the
days from that noon on (a history is compared per day, each interval cut to the day). A
failed load rolls its marks back with its rows.

A load whose rows do not all lie in the partition it replaces (an append) cannot be compared
that way: it marks every day it touched, before and after. Collectors never write such loads.

The allocation reads the other side (``pending_days``, ``stale_days``): days marked and not
allocated since, and days allocated under another configuration; its own transaction clears
the marks of the days it allocates (``models.schemas.CHANGED_DAY``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from models.schemas import Days, Table

BEFORE, AFTER = "_changes_before", "_changes_after"
FAR_FUTURE = "TIMESTAMP '9999-12-31'"
# A history's days are bounded by the days the cluster usage covers: a label change bears
# on no day without usage (and when that usage arrives, its own load marks its days).
USAGE_TABLE = "k8s_pod_hour"


class Change:
    """One partition's change, measured around its DELETE and INSERT (``Warehouse._swap``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: Table, where: str,
                 params: dict[str, Any]) -> None:
        assert table.days is not None
        self.con, self.table, self.days = con, table, table.days
        self.params = params
        self.partition = f"(SELECT * FROM {table.name} WHERE {where}) AS _rows"
        self._fingerprint(BEFORE, self.partition, params)

    def record(self, inserted: int, select: str, run_id: str) -> int:
        """Mark the days that changed (after the INSERT of ``inserted`` rows by ``select``);
        returns how many days."""
        self._fingerprint(AFTER, self.partition, self.params)
        after_rows = scalar(self.con, f"SELECT count(*) FROM {self.partition}", self.params)
        if after_rows != inserted:  # rows outside the partition: compare what was touched
            self._fingerprint(AFTER, f"({select}) AS _rows", {}, counted=False)
            changed = f"SELECT day FROM {BEFORE} UNION SELECT day FROM {AFTER}"
        else:
            changed = (f"SELECT day FROM {BEFORE} FULL JOIN {AFTER} USING (day) WHERE "
                       f"{BEFORE}.n IS DISTINCT FROM {AFTER}.n "
                       f"OR {BEFORE}.h IS DISTINCT FROM {AFTER}.h")
        if self.days.kind == "every":  # a price list bears on every allocated day
            changed = f"SELECT day FROM allocated_day WHERE EXISTS ({changed})"
        elif self.days.allocated_only:
            changed = f"SELECT day FROM allocated_day WHERE day IN ({changed})"
        marked = scalar(self.con, f"INSERT INTO changed_day SELECT DISTINCT day, $table, $run, "
                        f"now() FROM ({changed}) WHERE day IS NOT NULL",
                        {"table": self.table.name, "run": run_id})
        self.con.execute(f"DROP TABLE IF EXISTS {BEFORE}; DROP TABLE IF EXISTS {AFTER}")
        return int(marked or 0)

    def _fingerprint(self, name: str, source: str, params: dict[str, Any], *,
                     counted: bool = True) -> None:
        """Per day of the rows of ``source`` (a relation): their count ``n`` and hash sum
        ``h``, into the temporary table ``name``. ``counted`` False: only the days (the rows
        need not have every column)."""
        build = {"span": span_days, "history": history_days, "every": every_day}[self.days.kind]
        columns = hashed(self.table, self.days) if counted else None
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS "
                         f"{build(self.days, source, columns)}", params)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> Any:
    """The one value ``sql`` answers (None: no row), its result read to the end."""
    rows = con.execute(sql, params).fetchall()
    return rows[0][0] if rows else None


def hashed(table: Table, days: Days) -> list[str]:
    """The columns whose values count: all but the load stamps."""
    return [f'"{c}"' for c in table.columns if c not in days.ignore]


def _hash(columns: list[str] | None, *extra: str) -> str:
    return f"sum(hash({', '.join([*columns, *extra])}))" if columns is not None else "0"


def span_days(days: Days, source: str, columns: list[str] | None) -> str:
    """Rows bearing on the days from ``start`` up to ``end``: grouped by span first (a bill
    is millions of hourly lines and a few monthly ones), then each span cut into its days."""
    if days.end is None:
        return (f"SELECT CAST({days.start} AS DATE) AS day, count(*) AS n, "
                f"{_hash(columns)} AS h FROM {source} GROUP BY ALL")
    last = f"greatest({days.end} - INTERVAL 1 MICROSECOND, {days.start})"
    spans = (f"SELECT date_trunc('day', {days.start}) AS first_day, date_trunc('day', {last}) "
             f"AS last_day, count(*) AS n, {_hash(columns)} AS h FROM {source} "
             f"WHERE {days.start} IS NOT NULL GROUP BY ALL")
    return ("SELECT CAST(day AS DATE) AS day, sum(n) AS n, sum(h) AS h FROM (SELECT "
            "unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS day, n, h "
            f"FROM ({spans})) GROUP BY ALL")


def history_days(days: Days, source: str, columns: list[str] | None) -> str:
    """Rows valid from ``start`` to ``end`` (null: still valid), each cut into the days it
    covers within the usage's days, the interval clamped to the day in the hash: a day's
    fingerprint is what was valid in it."""
    assert days.end is not None
    end = f"coalesce({days.end}, {FAR_FUTURE})"
    bounds = (f"SELECT date_trunc('day', min(hour)) AS lo, date_trunc('day', max(hour)) AS hi "
              f"FROM {USAGE_TABLE}")
    cut = (f"SELECT *, unnest(generate_series(greatest(date_trunc('day', {days.start}), lo), "
           f"least(date_trunc('day', greatest({end} - INTERVAL 1 MICROSECOND, {days.start})), "
           f"hi), INTERVAL 1 DAY)) AS _day FROM {source}, ({bounds}) AS _bounds")
    # The interval as valid within the day stands for the row's own interval in the hash.
    own = {f'"{days.start}"', f'"{days.end}"'}
    values = [c for c in columns if c not in own] if columns is not None else None
    clamped = (f"greatest({days.start}, _day)", f"least({end}, _day + INTERVAL 1 DAY)")
    return (f"SELECT CAST(_day AS DATE) AS day, count(*) AS n, "
            f"{_hash(values, *clamped)} AS h FROM ({cut}) GROUP BY ALL")


def every_day(days: Days, source: str, columns: list[str] | None) -> str:
    """Rows that bear on every day: one fingerprint for them all (its ``day`` is a token)."""
    return (f"SELECT DATE '0001-01-01' AS day, count(*) AS n, {_hash(columns)} AS h "
            f"FROM {source} HAVING count(*) > 0")


# -- what the allocation owes ---------------------------------------------------------------
def pending_days(con: duckdb.DuckDBPyConnection, kept_from: date | None) -> dict[date, list[str]]:
    """Days marked changed since their last allocation, each with the tables that changed it
    (days before ``kept_from``, whose raw data retention removed, are not owed)."""
    rows = con.execute(
        "SELECT day, list(DISTINCT table_name ORDER BY table_name) FROM changed_day "
        "WHERE day >= $kept GROUP BY day ORDER BY day",
        {"kept": kept_from or date.min}).fetchall()
    return dict(rows)


def stale_days(con: duckdb.DuckDBPyConnection, fingerprint: str,
               kept_from: date | None) -> list[date]:
    """Days allocated under another configuration than ``fingerprint``."""
    rows = con.execute(
        "SELECT day FROM allocated_day WHERE config_fingerprint IS DISTINCT FROM $f "
        "AND day >= $kept ORDER BY day", {"f": fingerprint, "kept": kept_from or date.min})
    return [day for (day,) in rows.fetchall()]

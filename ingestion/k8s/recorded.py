"""Recorded Kubernetes usage: a directory of ``<table>.parquet`` files (the demo's usage data).

Files: ``k8s_node_hour``, ``k8s_pod_hour``, ``k8s_namespace``, ``k8s_quota_hour``,
``k8s_volume_hour``, ``k8s_lb_hour`` (any subset; other file names are an error). Each hourly
table replaces, per cluster, the hour window the files cover ([first hour, last hour + 1h),
the same window for every hourly table so a pod that disappeared does not linger);
``k8s_namespace`` replaces the whole history of its clusters. All tables load in one
transaction: a bad file leaves the warehouse as it was.

DuckDB reads the files itself (no Polars copy): every file is first checked with metadata
reads and one scan of its grain columns (readable, grain columns present, types castable to
the table's, no empty grain value), then one ``INSERT … SELECT`` per table streams the rows in.
Columns the table does not declare are ignored; missing ones load as NULL.

Several recordings (e.g. the ``day=*`` directories of a month) load as one run: each hourly
window is the union of the recordings' windows, and a cluster's namespace history comes from
the last recording (in the order given) that has it, as if they were loaded one by one.

``hourly_replaces`` is also how the Prometheus collector replaces its window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from models.errors import InputError
from models.loads import IngestRun, Load, Replace, Rows, file_checksum, quiet
from models.loads import sql_literal as quote
from models.schemas import (
    BOOL,
    DAY,
    F64,
    K8S_HOURLY,
    K8S_NAMESPACE,
    MAP,
    STR,
    TS,
    Table,
)

SOURCE = "recorded"
HOURLY = tuple(hourly.table for hourly in K8S_HOURLY)
TABLES = {t.name: t for t in (*HOURLY, K8S_NAMESPACE)}
Window = tuple[datetime, datetime]  # [start, end)
Span = tuple[str, datetime, datetime]  # cluster, [start, end)
Part = tuple[Path, dict[str, str], str | None]  # a file, its column types, a row filter

# DuckDB type of each schema dtype, and the source types that cast to it without loss of
# meaning or a chance of failing mid-insert (so checking types up front is enough).
DUCK = {STR: "VARCHAR", F64: "DOUBLE", TS: "TIMESTAMP", DAY: "DATE", BOOL: "BOOLEAN",
        MAP: "MAP(VARCHAR, VARCHAR)", pl.List(pl.String): "VARCHAR[]"}
NUMBERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
           "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE"}
TIMES = {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE",
         "TIMESTAMP WITH TIME ZONE"}
ENTRIES = "STRUCT(key VARCHAR, value VARCHAR)[]"
LABELS = {ENTRIES, "MAP(VARCHAR, VARCHAR)", "NULL[]"}  # NULL[]: lists that are all empty
ACCEPTS: dict[str, set[str]] = {
    "VARCHAR": {"VARCHAR"},
    "DOUBLE": NUMBERS,
    "TIMESTAMP": TIMES,
    "DATE": {"DATE"},
    "BOOLEAN": {"BOOLEAN"},
    "MAP(VARCHAR, VARCHAR)": LABELS,
    "VARCHAR[]": {"VARCHAR[]", "NULL[]"},
}


def duck_type(dtype: pl.DataType) -> str:
    return DUCK[dtype]


def _normal(duck: str) -> str:
    """DuckDB's DESCRIBE quotes some names (``"NULL"``, ``STRUCT("key" …)``); drop that."""
    return duck.replace('"', "")


def castable(source: str, target: str) -> bool:
    source = _normal(source)
    if source == "NULL":  # an all-null column written without a type
        return True
    return source in ACCEPTS[target] or (target == "DOUBLE" and source.startswith("DECIMAL("))


def scan(files: Sequence[Path | str], *, row_numbers: bool = False) -> str:
    """``read_parquet`` of ``files`` (hive ``day=…`` directories add no columns)."""
    names = ", ".join(quote(str(f)) for f in files)
    extra = ", file_row_number = true" if row_numbers else ""
    return f"read_parquet([{names}], hive_partitioning = false{extra})"


def column_expr(name: str, target: str, source: str | None) -> str:
    """SQL turning column ``name`` of DuckDB type ``source`` (None: absent) into ``target``."""
    source = _normal(source) if source is not None else None
    if source is None or source == "NULL":
        return f"CAST(NULL AS {target})"
    ref = f'"{name}"'
    if source == target:
        return ref
    if target == DUCK[MAP]:
        # Arrow/Polars maps are lists of key/value structs
        entries = ref if source == ENTRIES else f"CAST({ref} AS {ENTRIES})"
        return f"map_from_entries({entries})"
    if source == "TIMESTAMP WITH TIME ZONE":
        return f"timezone('UTC', {ref})"  # naive UTC, whatever the session time zone
    return f"CAST({ref} AS {target})"


def parquet_select(
    table: Table,
    pattern: str | Sequence[Path | str],
    *,
    types: dict[str, str] | None = None,
    source: str | None = None,
    where: str | None = None,
) -> str:
    """A SELECT over Parquet files naming the table's columns, cast to the table's types.

    ``types``: the files' DuckDB column types (from ``DESCRIBE``); None means files written
    from conformed frames (label maps as lists of key/value structs, which DuckDB needs as
    MAPs). ``source`` fills a null ``x_source``; ``where`` filters the rows.
    """
    relation = f"read_parquet('{pattern}')" if isinstance(pattern, str) else scan(pattern)
    cols, joins = [], []
    for name, dtype in table.schema.items():
        target = DUCK[dtype]
        if types is None:
            expr = f'map_from_entries("{name}")' if dtype == MAP else f'"{name}"'
        elif dtype == MAP and _normal(types.get(name) or "") == ENTRIES:
            expr, join = label_join(name, relation)
            joins.append(join)
        else:
            expr = column_expr(name, target, types.get(name))
        if name == "x_source" and source is not None:
            expr = f"coalesce({expr}, {quote(source)})"
        cols.append(f'{expr} AS "{name}"')
    return f"SELECT {', '.join(cols)} FROM {relation} {' '.join(joins)}" + (
        f" WHERE {where}" if where else ""
    )


def label_join(name: str, relation: str) -> tuple[str, str]:
    """The MAP of label column ``name`` by a join with its distinct values: labels repeat
    every hour of a pod, and ``map_from_entries`` once per distinct list instead of once per
    row takes a third off the whole load. (A LEFT JOIN: a null list stays a null map.)"""
    alias = f'"_map_{name}"'
    distinct = (
        f"SELECT _k, map_from_entries(_k) AS _m "
        f'FROM (SELECT DISTINCT "{name}" AS _k FROM {relation})'
    )
    return f"{alias}._m", f'LEFT JOIN ({distinct}) AS {alias} ON "{name}" = {alias}._k'


# -- checks ----------------------------------------------------------------------------------
@dataclass
class Recording:
    """One directory of ``<table>.parquet`` files, each with its DuckDB column types."""

    directory: Path
    files: dict[str, Path] = field(default_factory=dict)
    types: dict[str, dict[str, str]] = field(default_factory=dict)


def table_files(directory: Path) -> dict[str, Path]:
    """The directory's ``<table>.parquet`` files; unknown names are an error."""
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory of <table>.parquet files")
    files = sorted(directory.glob("*.parquet"))
    unknown = [f.name for f in files if f.stem not in TABLES]
    if unknown:
        raise InputError(f"{directory}: unknown file(s) {unknown}; expected {sorted(TABLES)}")
    if not files:
        raise InputError(f"{directory}: no <table>.parquet files (expected {sorted(TABLES)})")
    return {f.stem: f for f in files}


def recordings(paths: Sequence[Path]) -> list[Path]:
    """Each path is a recording, or a directory of recordings (``day=*``), taken in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not any(path.glob("*.parquet")):
            subdirs = sorted(d for d in path.iterdir() if d.is_dir() and any(d.glob("*.parquet")))
            found += subdirs or [path]  # none: table_files says what is missing
        else:
            found.append(path)
    return found


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0]  # DuckDB appends the SQL it ran; the user did not write it


def describe(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {scan([path])}").fetchall()
    except duckdb.Error as exc:
        raise InputError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from None
    return {str(r[0]): str(r[1]) for r in rows}


def check_file(con: duckdb.DuckDBPyConnection, path: Path, table: Table) -> dict[str, str]:
    """The file's column types, once it is known to fit ``table``; errors name file/row/column."""
    types = describe(con, path)
    missing = [c for c in table.grain if c not in types]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing} (required by {table.name})")
    for name, dtype in table.schema.items():
        if name in types and not castable(types[name], DUCK[dtype]):
            raise InputError(
                f"{path}: column {name} is {_normal(types[name])}, expected {DUCK[dtype]} "
                f"(in {table.name})"
            )
    check_grain(con, path, table)
    return types


def check_grain(con: duckdb.DuckDBPyConnection, path: Path, table: Table) -> None:
    """The first row (0-based, file order) with an empty grain column is an error."""
    if not table.grain:
        return
    flags = ", ".join(f'"{c}" IS NULL' for c in table.grain)
    where = " OR ".join(f'"{c}" IS NULL' for c in table.grain)
    try:
        # fetchall, not fetchone: an unfinished result would block the connection's next use
        rows = con.execute(
            f"SELECT file_row_number, {flags} FROM {scan([path], row_numbers=True)} "
            f"WHERE {where} ORDER BY file_row_number LIMIT 1"
        ).fetchall()
    except duckdb.Error as exc:
        raise InputError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from None
    if rows:
        row = rows[0]
        column = next(c for c, empty in zip(table.grain, row[1:], strict=True) if empty)
        raise InputError(f"{path}: row {row[0]}: column {column} is empty")


def check(
    con: duckdb.DuckDBPyConnection,
    directories: Sequence[Path],
    on_file: Callable[[Path], None] | None = None,
) -> list[Recording]:
    """Every file of every recording checked, before anything is loaded."""
    found = [Recording(d, table_files(d)) for d in directories]
    for rec in found:
        for name, path in rec.files.items():
            rec.types[name] = check_file(con, path, TABLES[name])
            if on_file:
                on_file(path)
    return found


def file_count(directories: Sequence[Path]) -> int:
    return sum(len(list(d.glob("*.parquet"))) for d in directories if d.is_dir())


# -- windows and selects ---------------------------------------------------------------------
def spans(con: duckdb.DuckDBPyConnection, rec: Recording) -> list[Span]:
    """Per cluster, [first hour, last hour + 1h) over the recording's hourly files."""
    parts = []
    for name, path in rec.files.items():
        if name != K8S_NAMESPACE.name:
            types = rec.types[name]
            hour = column_expr("hour", "TIMESTAMP", types["hour"])
            cluster = column_expr("cluster", "VARCHAR", types["cluster"])
            parts.append(f"SELECT {cluster} AS cluster, {hour} AS hour FROM {scan([path])}")
    if not parts:
        return []
    rows = con.execute(
        "SELECT cluster, min(hour), max(hour) + INTERVAL 1 HOUR "
        f"FROM ({' UNION ALL '.join(parts)}) GROUP BY cluster ORDER BY cluster"
    ).fetchall()
    return [(str(c), s, e) for c, s, e in rows]


def merge(found: list[Span]) -> list[Span]:
    """Overlapping or touching windows of a cluster as one (a month of days: one per cluster)."""
    merged: list[Span] = []
    for cluster, start, end in sorted(found):
        if merged and merged[-1][0] == cluster and start <= merged[-1][2]:
            merged[-1] = (cluster, merged[-1][1], max(end, merged[-1][2]))
        else:
            merged.append((cluster, start, end))
    return merged


def spans_where(found: list[Span]) -> tuple[str, dict[str, object]]:
    """A WHERE clause (and its parameters) matching the hours of every window."""
    if not found:
        return "false", {}
    clauses, params = [], {}
    for i, (cluster, start, end) in enumerate(found):
        clauses.append(f"(cluster = $c{i} AND hour >= $s{i} AND hour < $e{i})")
        params.update({f"c{i}": cluster, f"s{i}": start, f"e{i}": end})
    return " OR ".join(clauses), params


def window_where(windows: dict[str, Window]) -> tuple[str, dict[str, object]]:
    return spans_where([(c, s, e) for c, (s, e) in sorted(windows.items())])


def hourly_replaces(rows: dict[str, Rows], windows: dict[str, Window]) -> list[Replace]:
    where, params = window_where(windows)
    return [Replace(TABLES[name], data, where, params) for name, data in rows.items()]


def union_select(table: Table, parts: Sequence[Part], source: str) -> str:
    """One SELECT over many files: files with the same column types (and filter) share a scan."""
    groups: dict[tuple[tuple[tuple[str, str], ...], str | None], list[Path]] = {}
    for path, types, where in parts:
        groups.setdefault((tuple(sorted(types.items())), where), []).append(path)
    selects = [
        parquet_select(table, files, types=dict(types), source=source, where=where)
        for (types, where), files in groups.items()
    ]
    return " UNION ALL ".join(selects)


def namespace_replace(con: duckdb.DuckDBPyConnection, found: list[Recording],
                      source: str) -> Replace | None:
    """A cluster's history comes from the last recording that has it."""
    latest: dict[str, int] = {}
    for i, rec in enumerate(found):
        if K8S_NAMESPACE.name in rec.files:
            path = rec.files[K8S_NAMESPACE.name]
            types = rec.types[K8S_NAMESPACE.name]
            cluster = column_expr("cluster", "VARCHAR", types["cluster"])
            for (name,) in con.execute(f"SELECT DISTINCT {cluster} FROM {scan([path])}").fetchall():
                latest[str(name)] = i
    if not latest:
        return None
    parts = []
    for i, rec in enumerate(found):
        mine = sorted(c for c, last in latest.items() if last == i)
        if mine:
            where = f"list_contains([{', '.join(quote(c) for c in mine)}], cluster)"
            parts.append((rec.files[K8S_NAMESPACE.name], rec.types[K8S_NAMESPACE.name], where))
    rows = union_select(K8S_NAMESPACE, parts, source)
    clusters = sorted(latest)
    return Replace(K8S_NAMESPACE, rows, "list_contains($clusters, cluster)", {"clusters": clusters})


def usage_load(
    directories: Path | Sequence[Path],
    *,
    source: str = SOURCE,
    on_file: Callable[[Path], None] | None = None,
) -> Load:
    """Check every file first (on a DuckDB connection of its own), then one load replacing
    the windows they cover.

    ``directories``: recordings, or directories of recordings (``day=*``); ``on_file`` is
    called after each file is checked (progress).
    """
    given = [directories] if isinstance(directories, Path) else list(directories)
    con = quiet(duckdb.connect())
    try:
        found = check(con, recordings(given), on_file)
        windows = merge([s for rec in found for s in spans(con, rec)])
        namespaces = namespace_replace(con, found, source)
    finally:
        con.close()
    where, params = spans_where(windows)
    replaces = [Replace(table, union_select(table, parts, source), where, params)
                for table, parts in _hourly_parts(found)]
    paths = [p for rec in found for p in rec.files.values()]
    run = IngestRun.begin(source, paths, min((s for _, s, _ in windows), default=None),
                          max((e for _, _, e in windows), default=None),
                          checksum=file_checksum(paths))
    return Load(run, replaces + ([namespaces] if namespaces else []))


def _hourly_parts(found: list[Recording]) -> list[tuple[Table, list[Part]]]:
    """Each hourly table some recording has, with its files and their column types."""
    tables: list[tuple[Table, list[Part]]] = [
        (table, [(r.files[table.name], r.types[table.name], None)
                 for r in found if table.name in r.files]) for table in HOURLY]
    return [(table, parts) for table, parts in tables if parts]

"""The results as Apache Iceberg tables (``finops publish --lake URI``; the extra ``finops[lake]``).

What goes out (``lake_tables``): ``allocation``, ``cost_line`` and every serving rollup
(``rollup_*``) the published warehouse holds, read from the published snapshot (what the API
serves), never from the writer. Each is an Iceberg table of the same name in the namespace
``FINOPS_LAKE__NAMESPACE``, partitioned by day: identity on ``day`` where the table has one,
``day(charge_period_start)`` for ``cost_line``.

- **One commit per table and publish.** A table's days are replaced in one Iceberg
  transaction: a delete of the days written (overwrite by filter; whole partitions are
  dropped, not rewritten) and the appends of their rows, committed to the catalog at once,
  so a reader sees the table before or after, never between. Every commit of a publish carries
  the same ``finops.publish_id`` (and ``finops.first_day`` / ``finops.last_day``) in its
  snapshot summary; ``allocation`` is written last, so a reader who finds the publish id on
  ``allocation`` knows the other tables hold it too. Iceberg has no commit across tables
  in a SQL catalog: a publish that fails half-way leaves some tables at the new publish and
  the others at the previous one; publishing again repairs it (see the README).
- **Restated days replace their partitions.** Without a window, each table's days in the
  warehouse (first to last) are written; with ``first``/``last`` those days only. Days of the
  lake outside the window are left as they are (history the warehouse's retention dropped
  stays in the lake); a day inside it with no rows left in the warehouse is emptied.
- **Schema.** A column the warehouse gains is added to the Iceberg table (union by name) in
  the same transaction; one it loses stays in the lake, null in new rows.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from models.errors import ConfigError, LakeError

CORE = ("cost_line", "allocation")  # allocation last: its commit marks the publish done
ROLLUP_PREFIX = "rollup_"
CHUNK_DAYS = 7  # rows go to pyiceberg a week at a time: the memory of a week, not the window


@dataclass(frozen=True)
class LakeTable:
    """A warehouse table and the column that gives its day."""

    name: str
    day_column: str | None  # None: not by day (written whole)
    is_timestamp: bool = False  # day(column) rather than the column itself

    @property
    def day_sql(self) -> str:
        assert self.day_column is not None
        return f"{self.day_column}::DATE" if self.is_timestamp else self.day_column


@dataclass(frozen=True)
class Written:
    table: str
    rows: int
    first_day: date | None
    last_day: date | None
    snapshot_id: int | None


@dataclass(frozen=True)
class Lake:
    """Where the tables go: the catalog's properties and the namespace."""

    uri: str
    catalog: dict[str, str]
    namespace: str


def lake_for(uri: str, *, catalog: str = "sql", catalog_uri: str | None = None,
             namespace: str = "finops", s3_endpoint: str | None = None,
             s3_region: str | None = None, db_dir: Path | None = None) -> Lake:
    """The lake at ``uri`` (a path or ``s3://bucket/prefix``) behind its catalog."""
    on_s3 = uri.startswith("s3://")
    if not on_s3 and "://" in uri:
        raise ConfigError(f"--lake {uri}: give a path or s3://bucket/prefix")
    location = uri.rstrip("/") if on_s3 else Path(uri).resolve().as_uri()
    props = {"type": catalog, "warehouse": location}
    if catalog == "sql":
        props["uri"] = catalog_uri or _embedded_catalog(uri, on_s3, db_dir)
    elif catalog == "rest":
        if not catalog_uri:
            raise ConfigError("FINOPS_LAKE__CATALOG=rest needs FINOPS_LAKE__CATALOG_URI")
        props["uri"] = catalog_uri
    if s3_endpoint:
        props["s3.endpoint"] = s3_endpoint
    if s3_region:
        props["s3.region"] = props["client.region"] = s3_region
    return Lake(uri, props, namespace)


def _embedded_catalog(uri: str, on_s3: bool, db_dir: Path | None) -> str:
    """SQLite: in the lake's folder, or beside the warehouse for a lake on S3."""
    folder = (db_dir or Path.cwd()) if on_s3 else Path(uri)
    name = "lake-catalog.db" if on_s3 else "catalog.db"
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--lake {uri}: {folder} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / name).resolve()}"


def open_catalog(lake: Lake) -> Any:
    try:
        from pyiceberg.catalog import load_catalog
    except ImportError:
        raise ConfigError("--lake needs pyiceberg, the optional extra: "
                          "pip install 'finops[lake]'") from None
    try:
        catalog = load_catalog("finops", **lake.catalog)
        catalog.create_namespace_if_not_exists(lake.namespace)
    except Exception as exc:  # noqa: BLE001 — SQLAlchemy, HTTP, boto: all mean "no catalog"
        raise LakeError(f"cannot open the lake's catalog ({lake.catalog['type']}) for "
                        f"{lake.uri}: {type(exc).__name__}: {exc}") from exc
    return catalog


def lake_tables(con: duckdb.DuckDBPyConnection) -> list[LakeTable]:
    """``cost_line``, every ``rollup_*`` table, ``allocation`` (in the order written)."""
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_name LIKE 'rollup\\_%' ESCAPE '\\' ORDER BY table_name").fetchall()]
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    ordered = [CORE[0], *names, CORE[1]]
    return [_describe(con, name) for name in ordered if name in present]


def _describe(con: duckdb.DuckDBPyConnection, name: str) -> LakeTable:
    types = dict(con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
        [name]).fetchall())
    if types.get("day") == "DATE":
        return LakeTable(name, "day")
    if str(types.get("charge_period_start", "")).startswith("TIMESTAMP"):
        return LakeTable(name, "charge_period_start", is_timestamp=True)
    return LakeTable(name, None)


def publish_lake(con: duckdb.DuckDBPyConnection, lake: Lake, *, first: date | None = None,
                 last: date | None = None) -> tuple[str, list[Written]]:
    """Write every lake table's days (all, or ``first``..``last``) from ``con`` (the
    published snapshot); the publish id and what each table received."""
    catalog = open_catalog(lake)
    publish_id = uuid.uuid4().hex
    written = [_write(con, catalog, lake.namespace, table, publish_id, first, last)
               for table in lake_tables(con)]
    return publish_id, written


def _window(con: duckdb.DuckDBPyConnection, table: LakeTable, first: date | None,
            last: date | None) -> tuple[date | None, date | None]:
    if table.day_column is None or (first is not None and last is not None):
        return first, last
    [(low, high)] = con.execute(f"SELECT min({table.day_sql}), max({table.day_sql}) "
                                f"FROM {table.name}").fetchall()
    return first or low, last or high


def _write(con: duckdb.DuckDBPyConnection, catalog: Any, namespace: str, table: LakeTable,
           publish_id: str, first: date | None, last: date | None) -> Written:
    first, last = _window(con, table, first, last)
    schema = con.sql(f"SELECT * FROM {table.name} LIMIT 0").to_arrow_table().schema
    props = {"finops.publish_id": publish_id, "finops.first_day": str(first or ""),
             "finops.last_day": str(last or "")}
    try:
        iceberg = _table(catalog, namespace, table, schema)
        rows = 0
        with iceberg.transaction() as tx:
            tx.update_schema().union_by_name(schema).commit()
            with warnings.catch_warnings():  # a first publish has nothing to delete: fine
                warnings.filterwarnings("ignore", "Delete operation did not match")
                tx.delete(_filter(table, first, last), snapshot_properties=props)
            for chunk in _chunks(con, table, first, last):
                tx.append(chunk, snapshot_properties=props)
                rows += chunk.num_rows
        snapshot = iceberg.refresh().current_snapshot()
    except (ConfigError, LakeError):
        raise
    except Exception as exc:  # noqa: BLE001 — pyiceberg, pyarrow, S3: name the table
        raise LakeError(f"lake table {namespace}.{table.name}: {type(exc).__name__}: "
                        f"{exc}") from exc
    return Written(table.name, rows, first, last, snapshot.snapshot_id if snapshot else None)


def _table(catalog: Any, namespace: str, table: LakeTable, schema: pa.Schema) -> Any:
    from pyiceberg.exceptions import NoSuchTableError
    from pyiceberg.transforms import DayTransform

    identifier = (namespace, table.name)
    try:
        return catalog.load_table(identifier)
    except NoSuchTableError:
        pass
    created = catalog.create_table(identifier, schema=schema)
    if table.day_column is not None:
        with created.update_spec() as spec:
            if table.is_timestamp:
                spec.add_field(table.day_column, DayTransform(), f"{table.day_column}_day")
            else:
                spec.add_identity(table.day_column)
    return created


def _filter(table: LakeTable, first: date | None, last: date | None) -> str:
    """The lake rows the write replaces: the window's days (everything if not by day), in
    pyiceberg's filter syntax (the bounds are dates this module made, not user text)."""
    if table.day_column is None or first is None or last is None:
        return "true"
    low, high = first.isoformat(), (last + timedelta(1)).isoformat()
    if table.is_timestamp:
        low, high = f"{low}T00:00:00", f"{high}T00:00:00"
    return f"{table.day_column} >= '{low}' AND {table.day_column} < '{high}'"


def _chunks(con: duckdb.DuckDBPyConnection, table: LakeTable, first: date | None,
            last: date | None) -> Iterator[pa.Table]:
    """The window's rows a few days at a time, in day order."""
    if table.day_column is None or first is None or last is None:
        whole = con.sql(f"SELECT * FROM {table.name}").to_arrow_table()
        if whole.num_rows:
            yield whole
        return
    start = first
    while start <= last:
        end = min(last, start + timedelta(CHUNK_DAYS - 1))
        chunk = con.sql(f"SELECT * FROM {table.name} WHERE {table.day_sql} BETWEEN ? AND ? "
                        f"ORDER BY {table.day_sql}", params=[start, end]).to_arrow_table()
        if chunk.num_rows:
            yield chunk
        start = end + timedelta(1)


def read_back(lake: Lake, name: str) -> pa.Table:
    """A lake table's current snapshot as Arrow (pyiceberg's scan)."""
    return open_catalog(lake).load_table((lake.namespace, name)).scan().to_arrow()


def data_files(lake: Lake, name: str) -> list[str]:
    """The Parquet files of a table's current snapshot: what another engine reads (DuckDB's
    ``read_parquet`` without its iceberg extension; there are no delete files, since the
    days replaced are whole partitions)."""
    table = open_catalog(lake).load_table((lake.namespace, name))
    return [task.file.file_path for task in table.scan().plan_files()]

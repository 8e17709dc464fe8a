"""Checks of a CUR delivery before it is loaded (rules: see ``ingestion.billing.aws_cur``):
every file readable, the required columns present, numbers and timestamps that parse, at
least one line item; the delivery in one currency, with the columns its line types need.
Errors are ``InputError`` naming the file (its S3 URI), and the row and column when known."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.billing import aws_cur_sql as q
from models.errors import InputError


def relation(paths: list[Path]) -> str:
    files = "[" + ", ".join(q.quote(str(p)) for p in paths) + "]"
    if paths[0].name.endswith(".parquet"):
        # hive_partitioning off: files read in place sit below BILLING_PERIOD=…/ folders,
        # and that folder name is not a CUR column
        return f"read_parquet({files}, union_by_name=true, filename=true, hive_partitioning=false)"
    return (
        f"read_csv({files}, header=true, all_varchar=true, union_by_name=true, "
        "filename=true, delim=',', quote='\"', escape='\"')"
    )


def _describe(con: duckdb.DuckDBPyConnection, rel: str, uri: str) -> dict[str, str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
    except duckdb.Error as exc:
        raise InputError(f"{uri}: cannot read as CUR data ({exc})") from None
    return {str(r[0]): str(r[1]) for r in rows if r[0] != "filename"}


def check_file(con: duckdb.DuckDBPyConnection, path: Path, uri: str) -> dict[str, str]:
    """Columns present, types right, at least one row; returns canonical -> source name."""
    rel = relation([path])
    types = _describe(con, rel, uri)
    columns = {q.canonical(name): name for name in types}
    missing = [c for c in q.REQUIRED if c not in columns]
    if missing:
        raise InputError(
            f"{uri}: missing required column(s) {', '.join(missing)} "
            "(CUR 2.0 names; legacy lineItem/… names are accepted too)"
        )
    _check_rows(con, rel, path, uri)
    _check_types(con, rel, uri, columns, types)
    return columns


def _check_rows(con: duckdb.DuckDBPyConnection, rel: str, path: Path, uri: str) -> None:
    sql = f"SELECT sum(num_rows) FROM parquet_file_metadata({q.quote(str(path))})"
    row = con.execute(sql).fetchone()
    if not row or not row[0]:
        raise InputError(f"{uri}: empty file (a header but no line items)")


def _check_types(
    con: duckdb.DuckDBPyConnection,
    rel: str,
    uri: str,
    columns: dict[str, str],
    types: dict[str, str],
) -> None:
    """Numbers and timestamps must parse; a text column is checked value by value."""
    wanted = [(c, "DOUBLE") for c in q.NUMBERS] + [(c, "TIMESTAMP") for c in q.TIMESTAMPS]
    scans = []
    for canon, kind in wanted:
        source = columns.get(canon)
        if source is None:
            continue
        dtype = types[source].upper()
        if dtype == "VARCHAR":
            scans.append((source, kind))
        elif not _compatible(dtype, kind):
            raise InputError(f"{uri}: column {source} has type {dtype}, expected {kind}")
    if scans:
        _scan_values(con, rel, uri, scans)


def _compatible(dtype: str, kind: str) -> bool:
    if kind == "DOUBLE":
        return dtype in {
            "DOUBLE",
            "FLOAT",
            "BIGINT",
            "INTEGER",
            "HUGEINT",
            "SMALLINT",
            "UBIGINT",
            "UINTEGER",
        } or dtype.startswith("DECIMAL")
    return dtype.startswith("TIMESTAMP") or dtype == "DATE"


def _scan_values(
    con: duckdb.DuckDBPyConnection, rel: str, uri: str, scans: list[tuple[str, str]]
) -> None:
    bad = [
        f"(nullif(trim({q.ident(c)}), '') IS NOT NULL AND "
        f"TRY_CAST(trim({q.ident(c)}) AS {k}) IS NULL)"
        for c, k in scans
    ]
    flags = ", ".join(f"{b} AS b{i}" for i, b in enumerate(bad))
    values = ", ".join(q.ident(c) for c, _ in scans)
    sql = (
        f"SELECT * FROM (SELECT row_number() OVER () AS _row, {flags}, {values} "
        f"FROM {rel}) WHERE {' OR '.join(f'b{i}' for i in range(len(bad)))} LIMIT 1"
    )
    row = con.execute(sql).fetchone()
    if row is None:
        return
    index = next(i for i in range(len(scans)) if row[1 + i])
    column, kind = scans[index]
    value = row[1 + len(scans) + index]
    raise InputError(
        f"{uri}: row {row[0]} (line {row[0] + 1}), column {column}: "
        f"{value!r} is not a {'number' if kind == 'DOUBLE' else 'timestamp'}"
    )


def build_source(con: duckdb.DuckDBPyConnection, name: str, paths: list[Path],
                 files: dict[str, str]) -> q.Source:
    """Check every file (``files``: local path -> source URI), then the delivery ``name`` as
    a whole (one format, one currency)."""
    if not paths:
        raise InputError(f"{name}: no data files left to load")
    columns: dict[str, str] = {}
    for path in paths:
        columns.update(check_file(con, path, files[str(path)]))
    rel = relation(paths)
    source = q.Source(rel, columns, _describe(con, rel, name), dict(files))
    _check_mix(con, source)
    return source


def _check_mix(con: duckdb.DuckDBPyConnection, source: q.Source) -> None:
    currency = q.ident(source.columns["line_item_currency_code"])
    kind = q.ident(source.columns["line_item_line_item_type"])
    rows = con.execute(
        f"SELECT {currency}, {kind}, min(filename) FROM {source.relation} GROUP BY ALL"
    ).fetchall()
    currencies: dict[str, str] = {}
    for code, line_type, path in rows:
        if code:
            currencies.setdefault(code, source.files.get(path, path))
        needs = [c for c in q.CONDITIONAL.get(line_type, ()) if c not in source.columns]
        if needs:
            raise InputError(
                f"{source.files.get(path, path)}: {line_type} rows need "
                f"column(s) {', '.join(needs)} for their effective cost"
            )
    if len(currencies) > 1:
        seen = "; ".join(f"{code} in {uri}" for code, uri in sorted(currencies.items()))
        raise InputError(f"currency mix in one delivery ({seen}): load one currency at a time")

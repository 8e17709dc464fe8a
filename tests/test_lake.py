"""``finops publish --lake``: the demo month as Iceberg tables, read back by pyiceberg and by
DuckDB (its own Parquet reader over the snapshot's files) equal to the warehouse row for row;
a restated day replaces its partition alone; any ``rollup_*`` table goes too; the same on S3
through moto's server; bad options are ``Error: …`` lines."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from finops.lake import Lake, data_files, lake_for, open_catalog, read_back
from finops.warehouse import Warehouse
from tests.support import run_cli
from tests.support.runners import demo_copy
from tests.support.s3 import FAKE_AWS_ENV, moto_server

TABLES = ("allocation", "cost_line", "rollup_team_day")
ROLLUP = ("CREATE OR REPLACE TABLE rollup_team_day AS SELECT day, team, currency, "
          "sum(effective_cost) AS effective_cost FROM allocation GROUP BY ALL")


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    """A writable demo warehouse with a serving rollup in it."""
    path = demo_copy(demo_db, tmp_path / "wh")
    with Warehouse(path) as wh:
        wh.con.execute(ROLLUP)
    return path


def differences(db: Path, table: str, lake: pa.Table) -> tuple[int, int]:
    """Rows of the lake not in the warehouse, and of the warehouse not in the lake (exact:
    money equal to the last bit, so to the cent)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{db.with_name('finops.published.duckdb')}' AS wh (READ_ONLY)")
        con.register("lake", lake)
        extra, missing = (con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchall()
                          for a, b in (("FROM lake", f"FROM wh.{table}"),
                                       (f"FROM wh.{table}", "FROM lake")))
        return extra[0][0], missing[0][0]
    finally:
        con.close()


def by_duckdb(lake: Lake, table: str) -> pa.Table:
    """The table as DuckDB reads it: ``read_parquet`` over the current snapshot's files."""
    files = data_files(lake, table)
    return duckdb.connect().sql(f"FROM read_parquet({files!r}, hive_partitioning = false)"
                                ).to_arrow_table()


def assert_lake_equals_warehouse(db: Path, lake: Lake) -> None:
    for table in TABLES:
        for reader in (read_back, by_duckdb):
            rows = reader(lake, table)
            assert rows.num_rows > 0
            assert differences(db, table, rows) == (0, 0), (table, reader.__name__)


def publish(db: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, _, err = run_cli(["--db", str(db), "publish", *args], capsys)
    assert code == 0, err
    return err


def test_the_lake_reads_back_equal_and_a_restated_day_replaces_its_partition(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = tmp_path / "lake"
    err = publish(db, capsys, "--lake", str(where))
    assert "lake finops.allocation: 8501 rows, days 2026-10-01..2026-10-31" in err
    assert err.index("finops.cost_line") < err.index("finops.rollup_team_day") < err.index(
        "finops.allocation")  # allocation last: its commit marks the publish done
    lake = lake_for(str(where))
    assert_lake_equals_warehouse(db, lake)
    table = open_catalog(lake).load_table(("finops", "allocation"))
    assert [f.name for f in table.spec().fields] == ["day"]
    untouched = {f for f in data_files(lake, "allocation") if "day=2026-10-03" not in f}

    with Warehouse(db) as wh:  # a restatement of the 3rd; the 31st dropped by retention
        wh.con.execute("UPDATE allocation SET effective_cost = effective_cost * 2 "
                       "WHERE day = DATE '2026-10-03' AND team = 'payments'")
        wh.con.execute(ROLLUP)
    err = publish(db, capsys, "--lake", str(where), "--from", "2026-10-03", "--to", "2026-10-03")
    assert "days 2026-10-03..2026-10-03" in err
    assert_lake_equals_warehouse(db, lake)
    after = set(data_files(lake, "allocation"))
    assert untouched <= after and len(after - untouched) >= 1  # only the 3rd was rewritten
    snapshot = table.refresh().current_snapshot()
    assert snapshot is not None and snapshot.summary is not None
    assert snapshot.summary["finops.first_day"] == "2026-10-03"

    with Warehouse(db) as wh:
        wh.con.execute("DELETE FROM allocation WHERE day = DATE '2026-10-31'")
    publish(db, capsys, "--lake", str(where), "--from", "2026-10-30", "--to", "2026-10-30")
    days = read_back(lake, "allocation").column("day").to_pylist()
    assert max(days).isoformat() == "2026-10-31"  # outside the window: kept in the lake


@pytest.mark.integration
def test_the_lake_on_s3_through_moto(db: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    with moto_server() as endpoint:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                     **_keys()).create_bucket(Bucket="lake")
        for key, value in {**FAKE_AWS_ENV, "FINOPS_AWS__ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(key, value)
        publish(db, capsys, "--lake", "s3://lake/finops")
        lake = lake_for("s3://lake/finops", s3_endpoint=endpoint, s3_region="us-east-1",
                        db_dir=db.parent)
        assert all(f.startswith("s3://lake/finops/") for f in data_files(lake, "allocation"))
        for table in TABLES:
            assert differences(db, table, read_back(lake, table)) == (0, 0), table


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def test_bad_lake_options_say_what_is_wrong(db: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--db", str(db), "publish"]
    code, _, err = run_cli([*base, "--lake", "http://example.com/lake"], capsys)
    assert code == 1 and "Error: --lake http://example.com/lake: give a path or s3://" in err
    code, _, err = run_cli([*base, "--from", "2026-10-01"], capsys)
    assert code == 1 and "Error: --from/--to choose the lake's days: give --lake" in err
    code, _, err = run_cli([*base, "--lake", str(tmp_path), "--from", "2026-10-05", "--to",
                            "2026-10-01"], capsys)
    assert code == 1 and "Error: --from 2026-10-05 is after --to 2026-10-01" in err
    (tmp_path / "afile").write_text("x")
    code, _, err = run_cli([*base, "--lake", str(tmp_path / "afile")], capsys)
    assert code == 1 and "is a file, not a folder" in err

"""``finops export focus``: FOCUS 1.2 columns, money to the cent, window, CSV and Parquet."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from finops.exports import FOCUS_12
from finops.warehouse import Warehouse
from models.errors import InputError
from tests.support import exit_code

DATA = Path(__file__).parent / "ingestion" / "data"
SAMPLE = DATA / "focus-1.0" / "focus_sample.csv"
GCP = DATA / "gcp-billing" / "2024-03-01_5.csv"
AZURE = DATA / "azure-toolkit" / "EA_AmortizedCost_Small.csv"
SPEC_57 = [c for c in FOCUS_12 if not c.startswith("x_")]


def run(db: Path, *args: str) -> int:
    return exit_code(["--db", str(db), *args])


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "w.duckdb"
    assert run(path, "ingest", "focus", str(SAMPLE)) == 0
    assert run(path, "ingest", "azure", str(AZURE)) == 0
    assert run(path, "ingest", "gcp-billing", str(GCP)) == 0
    return path


def warehouse_total(db: Path, column: str, where: str = "true") -> float:
    with Warehouse(db) as warehouse:
        return float(warehouse.frame(f"SELECT sum({column}) AS s FROM cost_line WHERE {where}")
                     ["s"][0])


def test_focus_columns_and_count() -> None:
    assert len(SPEC_57) == 57
    assert SPEC_57 == sorted(SPEC_57)  # spec order is alphabetical


def test_parquet_export_matches_the_warehouse(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "focus.parquet"
    assert run(db, "export", "focus", "--start", "2019-01-01", "--end", "2025-12-31",
               str(out)) == 0
    table = pq.read_table(out)
    assert table.column_names[:57] == SPEC_57
    assert table.num_rows == 1000 + 28 + 6
    assert str(table.schema.field("ChargePeriodStart").type) == "timestamp[us, tz=UTC]"
    for focus, column in (("BilledCost", "billed_cost"), ("EffectiveCost", "effective_cost")):
        assert round(sum(v or 0 for v in table.column(focus).to_pylist()), 2) == round(
            warehouse_total(db, column), 2)
    providers = set(table.column("ProviderName").to_pylist())
    assert providers == {"AWS", "Microsoft", "Oracle", "Google Cloud"}
    assert None not in table.column("ListCost").to_pylist()


def test_csv_export_window_times_and_tags(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "focus.csv"
    assert run(db, "export", "focus", "--start", "2024-09-01", "--end", "2024-09-30",
               str(out)) == 0
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = warehouse_total(db, "billed_cost", "charge_period_start >= '2024-09-01' "
                               "AND charge_period_start < '2024-10-01'")
    assert round(sum(float(r["BilledCost"]) for r in rows), 2) == round(expected, 2)
    assert all(r["ChargePeriodStart"].startswith("2024-09") for r in rows)
    assert rows[0]["ChargePeriodStart"].endswith("Z") and "T" in rows[0]["ChargePeriodStart"]
    tagged = [r for r in rows if r["Tags"]]
    assert tagged and all(isinstance(json.loads(r["Tags"]), dict) for r in tagged)


def test_bad_export_arguments(db: Path, tmp_path: Path) -> None:
    from finops.exports import export_focus

    with pytest.raises(InputError, match=".csv or .parquet"):
        export_focus(None, __import__("datetime").date(2024, 1, 1),  # type: ignore[arg-type]
                     __import__("datetime").date(2024, 1, 2), tmp_path / "x.json")
    assert run(db, "export", "focus", "--start", "2024-13-01", "--end", "2024-12-01",
               str(tmp_path / "x.csv")) == 1

"""The CLI contract: global options, `Error: …` + exit 1, tracebacks only with --debug."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from finops.cli import main
from finops.warehouse import Warehouse
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import COST_LINE
from tests.support import run_cli

pytestmark = pytest.mark.integration


@pytest.fixture
def published(tmp_path: Path) -> Path:
    db = tmp_path / "finops.duckdb"
    frame = pl.DataFrame({"billing_account_id": ["0042"], "effective_cost": [12.345],
                          "billing_period_start": [datetime(2026, 10, 1)], "x_source": ["t"]})
    with Warehouse(db) as wh:
        wh.load(Load(IngestRun(new_run_id("t"), "t", None, None, []), [Replace(
            COST_LINE, frame, keys=("x_source", "billing_account_id", "billing_period_start"))]))
        wh.publish()
    return db


def test_sql_prints_json(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--db", str(published), "sql",
                            "select billing_account_id, effective_cost from cost_line",
                            "--format", "json"], capsys)
    assert code == 0
    assert json.loads(out) == [{"billing_account_id": "0042", "effective_cost": 12.345}]


def test_sql_prints_csv(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--db", str(published), "sql", "select 1 as a, 'x' as b",
                            "--format", "csv"], capsys)
    assert (code, out) == (0, "a,b\n1,x\n")


@pytest.mark.parametrize("sql", ["delete from cost_line", "select 1; select 2",
                                 "copy cost_line to '/tmp/x.csv'"])
def test_sql_refuses_anything_but_one_select(published: Path, sql: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["--db", str(published), "sql", sql], capsys)
    assert code == 1
    assert err.startswith("Error: only a single SELECT is allowed")
    assert "Traceback" not in err


def test_errors_have_no_traceback_unless_debug(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["--db", str(tmp_path / "none.duckdb"), "sql", "select 1"], capsys)
    assert code == 1 and err.startswith("Error: no published warehouse")
    from models.errors import WarehouseError

    with pytest.raises(WarehouseError):
        main(["--debug", "--db", str(tmp_path / "none.duckdb"), "sql", "select 1"])


def test_console_script_runs_as_a_process(published: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "finops", "--db", str(published), "sql",
         "select round(sum(effective_cost), 2) as total from cost_line", "--format", "csv"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "total\n12.35\n"

"""``finops report savings`` on the demo and ``finops report showback`` on the hand-written
warehouse: money from the data, totals equal the allocation, PDFs from a real Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from finops.settings import Settings
from tests.support import run_cli
from tests.support.api_warehouse import build, expected


def test_savings_ranked_and_scoped(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(demo_db.with_name("finops.duckdb"))
    window = ["--start", "2026-10-01", "--end", "2026-10-31", "--format", "json"]
    code, out, err = run_cli(["--db", db, "report", "savings", *window], capsys)
    assert code == 0, err
    rows = json.loads(out)
    money = [r["monthly_saving"] for r in rows]
    assert len(rows) > 10 and money == sorted(money, reverse=True) and min(money) > 0
    assert all(r["cpu_suggested"] <= r["cpu_request"] for r in rows)
    assert f"{len(rows)} workloads could request less: ${sum(money):,.2f} a month" in err
    code, out, _ = run_cli(["--db", db, "report", "savings", *window, "--team", "payments"],
                           capsys)
    assert code == 0 and {r["team"] for r in json.loads(out)} == {"payments"}


def test_savings_bad_window(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["--db", str(demo_db.with_name("finops.duckdb")), "report",
                            "savings", "--start", "2026-10-31", "--end", "2026-10-01"], capsys)
    assert code == 1 and "Error: --start 2026-10-31 is after --end 2026-10-01" in err


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build(tmp_path_factory.mktemp("showback"))


def test_showback_totals_equal_the_allocation(warehouse: Settings, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["--db", str(warehouse.db), "report", "showback", "--month",
                            "2026-10", "--out", str(tmp_path), "--no-pdf"], capsys)
    assert code == 0, err
    index = pl.read_csv(tmp_path / "index-2026-10.csv")
    totals = dict(zip(index["team"], index["effective_cost"], strict=True))
    for team in ("payments", "search"):
        lines = pl.read_csv(tmp_path / team / f"showback-{team}-2026-10.csv")
        assert lines["effective_cost"].sum() == pytest.approx(expected(team=team))
        assert totals[team] == pytest.approx(expected(team=team), abs=0.005)
        page = (tmp_path / team / f"showback-{team}-2026-10.html").read_text()
        assert "<script" not in page and "http" not in page and "<svg" in page
        assert f"${expected(team=team):,.2f}" in page
    assert totals["(allocation)"] == totals["(sum)"] == pytest.approx(expected(), abs=0.005)
    assert not (tmp_path / "payments" / "showback-payments-2026-10.pdf").exists()


@pytest.mark.integration
def test_showback_pdf_from_chromium(warehouse: Settings, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    command = ["--db", str(warehouse.db), "report", "showback", "--month", "2026-10", "--out",
               str(tmp_path), "--team", "search"]
    code, _, err = run_cli([*command, "--browser", "/nonexistent/chromium"], capsys)
    assert code == 1 and "Error: --browser: '/nonexistent/chromium' is not an executable" in err
    code, _, err = run_cli(command, capsys)
    assert code == 0, err
    pdf = (tmp_path / "search" / "showback-search-2026-10.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 5_000
    assert not (tmp_path / "payments").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--month", "2026-13"], "--month '2026-13': expected YYYY-MM"),
    (["--month", "2026-11"], "no allocated cost in 2026-11"),
    (["--month", "2026-10", "--team", "nobody"], "--team nobody"),
])
def test_showback_errors_name_the_option(warehouse: Settings, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str], args: list[str],
                                         message: str) -> None:
    code, _, err = run_cli(["--db", str(warehouse.db), "report", "showback", "--no-pdf",
                            "--out", str(tmp_path / "out"), *args], capsys)
    assert code == 1 and message in err and "Traceback" not in err

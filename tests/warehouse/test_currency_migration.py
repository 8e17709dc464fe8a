"""Migration 0006 (currencies) on a warehouse allocated before currencies: no reload,
amounts kept as billed at rate 1, both reconciliations zero."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from finops.warehouse import SQL_DIR, Warehouse


def _old_warehouse(db: Path) -> None:
    """A warehouse at schema version 3 with one billed day allocated to two rows."""
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR, "
                "applied_at TIMESTAMP)")
    for version in (1, 2, 3):
        [path] = (SQL_DIR / "migrations").glob(f"000{version}_*.sql")
        con.execute(path.read_text())
        con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, path.name])
    con.execute("INSERT INTO cost_line (billing_account_id, billing_currency, "
                "charge_period_start, charge_period_end, billed_cost, effective_cost, list_cost) "
                "VALUES ('acct-1', 'EUR', '2026-10-01', '2026-10-02', 30.0, 30.0, 33.0)")
    con.execute("INSERT INTO allocation (day, billing_account_id, cost_kind, team, "
                "price_source, billed_cost, effective_cost, list_cost, run_id) VALUES "
                "('2026-10-01', 'acct-1', 'cloud', 'payments', 'bill', 20.0, 20.0, 22.0, 'r1'), "
                "('2026-10-01', 'acct-1', 'cloud', NULL, 'bill', 10.0, 10.0, 11.0, 'r1')")
    con.close()


def test_single_currency_warehouse_migrates_without_a_reload(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    _old_warehouse(db)
    with Warehouse(db) as wh:
        rows = wh.con.execute(
            "SELECT team, currency, billing_currency, effective_cost, billing_effective_cost, "
            "billing_billed_cost, billing_list_cost, fx_rate, fx_source FROM allocation "
            "ORDER BY team NULLS LAST").fetchall()
        assert rows == [("payments", "EUR", "EUR", 20.0, 20.0, 20.0, 22.0, 1.0, "same-currency"),
                        (None, "EUR", "EUR", 10.0, 10.0, 10.0, 11.0, 1.0, "same-currency")]
        assert wh.con.execute("SELECT * EXCLUDE (run_id) FROM allocation_fx").fetchall() == [
            (date(2026, 10, 1), "acct-1", "bill", "EUR", "EUR", 1.0, "same-currency")]
        assert wh.con.execute("SELECT billing_currency, difference FROM reconciliation"
                              ).fetchall() == [("EUR", 0)]
        assert wh.con.execute("SELECT currency, difference FROM reconciliation_reporting"
                              ).fetchall() == [("EUR", 0)]
        assert wh.con.execute("SELECT team, currency, effective_cost FROM cost_by_team_daily"
                              ).fetchall() == [("payments", "EUR", 20.0)]
        latest = max(int(p.name[:4]) for p in (SQL_DIR / "migrations").glob("*.sql"))
        assert wh.schema_version() == latest

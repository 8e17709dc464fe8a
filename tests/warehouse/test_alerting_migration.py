"""Migration 0007 (alert conversations) on a warehouse whose outbox holds budget alerts of the
old kind, one message per threshold: the unsent ones are dropped (the next check plans them
as one conversation per budget), the sent ones stay fired."""

from __future__ import annotations

from pathlib import Path

import duckdb

from finops.warehouse import SQL_DIR, Warehouse


def _old_warehouse(db: Path) -> None:
    """A warehouse at schema version 6 with three old-style budget alerts."""
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR, "
                "applied_at TIMESTAMP)")
    for version in range(1, 7):
        [path] = (SQL_DIR / "migrations").glob(f"000{version}_*.sql")
        con.execute(path.read_text())
        con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, path.name])
    for percent, status in ((50, "sent"), (80, "pending"), (100, "pending")):
        con.execute("INSERT INTO alert_outbox (alert_key, kind, team, channel, payload, status, "
                    "created_at) VALUES (?, 'budget', 'payments', '#payments', '{}', ?, now())",
                    [f"budget:payments-monthly:2026-10:actual:{percent}", status])
    con.close()


def test_unsent_threshold_messages_are_planned_again_as_one_conversation(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    _old_warehouse(db)
    with Warehouse(db) as wh:
        left = wh.con.execute("SELECT alert_key, status FROM alert_outbox").fetchall()
        fired = wh.con.execute("SELECT alert_key FROM alert_fired").fetchall()
    assert left == [("budget:payments-monthly:2026-10:actual:50", "sent")]
    assert fired == [("budget:payments-monthly:2026-10:actual:50",)]

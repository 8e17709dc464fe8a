"""`finops demo --no-serve` builds the whole pipeline and it adds up, to the cent.

``demo_db`` (the published demo warehouse) is the session fixture of ``tests.support.demo``."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml

from finops.demo import DEMO_DIR as DEMO
from models.config import hash_token


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_every_account_day_reconciles(demo_db: Path) -> None:
    rows = query(demo_db, "SELECT count(*), sum(abs(difference)) FROM reconciliation")
    assert rows[0][0] == 93  # 3 billing accounts x 31 days
    assert rows[0][1] == 0


@pytest.mark.slow
def test_bill_totals_match_the_source_to_the_cent(demo_db: Path) -> None:
    expected = json.loads((DEMO / "expected_totals.json").read_text())["billing_accounts"]
    loaded = dict(query(demo_db, "SELECT billing_account_id, round(sum(effective_cost), 2) "
                                 "FROM cost_line GROUP BY 1"))
    assert {a["billing_account_id"]: round(a["effective_cost"], 2) for a in expected} == {
        k: float(v) for k, v in loaded.items()}


@pytest.mark.slow
def test_owned_plus_unowned_is_the_whole_bill(demo_db: Path) -> None:
    [(owned, unowned, billed)] = query(demo_db, """
        SELECT (SELECT sum(effective_cost) FROM cost_by_team_daily),
               (SELECT sum(effective_cost) FROM unowned_spend
                WHERE reason IS NOT NULL),
               (SELECT sum(effective_cost) FROM allocation)""")
    assert round(owned + unowned, 2) == round(billed, 2)
    reasons = {r for (r,) in query(demo_db, "SELECT DISTINCT reason FROM unowned_spend")}
    assert {"no-team-label", "unknown-team", "untagged-resource", "idle-capacity",
            "unused-commitment"} <= reasons


@pytest.mark.slow
def test_demo_budgets_cross_thresholds(demo_db: Path) -> None:
    fired = query(demo_db, "SELECT DISTINCT team FROM alert_outbox WHERE kind = 'budget'")
    assert {"payments", "data", "search"} <= {team for (team,) in fired}


def test_printed_demo_tokens_match_the_hashed_config() -> None:
    tokens = json.loads((DEMO / "tokens.json").read_text())
    config = yaml.safe_load((DEMO / "finops.yaml").read_text())
    stored = {t["role"]: t["sha256"] for t in config["api_tokens"]}
    assert {role: hash_token(token) for role, token in tokens.items()} == stored

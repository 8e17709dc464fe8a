"""The governance section of the weekly platform digest, through the alerts' hook."""

from __future__ import annotations

from datetime import date

import duckdb

from finops.alerts import digest_sections, unowned_digest
from finops.governance.digest import digest_section
from finops.settings import Settings
from tests.support.governance_data import TODAY, config


def test_the_section_names_kinds_quota_overruns_and_expired_exemptions(
        snapshot: duckdb.DuckDBPyConnection) -> None:
    section = digest_section(snapshot, config(), date(2026, 10, 10), TODAY)
    assert section is not None
    text = section["blocks"][1]["text"]["text"]
    assert "• quota-over-budget: 2 (195.22 EUR at stake)" in text  # 170.82 + 24.40
    assert ("• team search: quota allows 270.82 EUR/month, budget is 100.00 EUR") in text
    assert "*Expired exemptions*\n• exemption old-srch: expired 2026-10-05" in text
    assert section["facts"]["expired_exemptions"] == 1


def test_the_unowned_digest_carries_it_before_its_closing_line(
        snapshot: duckdb.DuckDBPyConnection) -> None:
    sections = digest_sections(snapshot, config(), date(2026, 10, 10))
    digest = unowned_digest(snapshot, date(2026, 10, 10), Settings().locale, sections=sections)
    assert digest is not None
    kinds = [b["type"] for b in digest["blocks"]]
    assert kinds[-3:] == ["divider", "section", "context"]
    assert "Governance:" in digest["text"] and digest["facts"]["sections"][0]["findings"] >= 13

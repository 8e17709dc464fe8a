"""Governance findings on the scenario of ``tests.support.governance_data``, each figure
computed here by hand from the scenario's table (not by the code under test)."""

from __future__ import annotations

import duckdb
import pytest

from finops.governance.findings import Finding
from finops.governance.report import GovernanceReport, governance_report
from tests.support.governance_data import TODAY, WINDOW, config

DAYS = 10
HOURS_OCT = 31 * 24  # the ceilings are per calendar month: October has 744 hours
SPEND = {"pay": DAYS * (0.96 + 0.24), "pay-batch": DAYS * 0.48, "srch": DAYS * (2.40 + 0.384),
         "lab": DAYS * 0.24}
# Unit prices are what the pods paid: cost per day / (request x 24 h).
PAY_CPU, PAY_RAM = 0.96 / 24, 0.24 / (2 * 24)  # 0.04 per core-hour, 0.005 per GiB-hour
SRCH_CPU, SRCH_RAM = 2.40 / (2 * 24), 0.384 / (4 * 24)  # 0.05, 0.004
# data-ns runs nothing: the cluster's average, all cpu (ram) cost over all core- (GiB-) hours
CLUSTER_CPU = (0.96 + 0.48 + 2.40 + 0.24) / ((1 + 0.5 + 2 + 0.25) * 24)
CLUSTER_RAM = (0.24 + 0.384) / ((2 + 4) * 24)
CEILING = {
    "pay": (2 * PAY_CPU + 4 * PAY_RAM) * HOURS_OCT,  # requests.cpu 2, 4 GiB
    # per quota the largest cpu key (q: max(4, 8) = 8), per namespace the smallest (q2: 6)
    "srch": (6 * SRCH_CPU + 16 * SRCH_RAM) * HOURS_OCT,
    "data-ns": (1 * CLUSTER_CPU + 1 * CLUSTER_RAM) * HOURS_OCT,
}


@pytest.fixture
def report(snapshot: duckdb.DuckDBPyConnection) -> GovernanceReport:
    return governance_report(snapshot, config(), WINDOW, TODAY)


def found(report: GovernanceReport, kind: str) -> dict[str, Finding]:
    return {f.subject: f for f in report.findings if f.kind == kind}


def test_hand_computed_ceilings() -> None:
    assert round(CEILING["pay"], 2) == 74.40  # 2 x 0.04 x 744 + 4 x 0.005 x 744
    assert round(CEILING["srch"], 2) == 270.82  # 6 x 0.05 x 744 + 16 x 0.004 x 744


def test_namespace_ceilings(report: GovernanceReport) -> None:
    rows = {r["namespace"]: r for r in report.namespace_ceilings}
    assert set(rows) == {"pay", "srch", "data-ns"}
    for ns, ceiling in CEILING.items():
        assert rows[ns]["ceiling"] == round(ceiling, 2), ns
    assert rows["srch"]["hard_cpu"] == 6.0 and rows["srch"]["cpu_price"] == round(SRCH_CPU, 6)
    assert rows["data-ns"]["team"] == "data"  # nothing spent there: its label says data


def test_quota_ceiling_against_budget(report: GovernanceReport) -> None:
    teams = {r["team"]: r for r in report.quota_ceilings}
    assert teams["payments"]["ceiling_monthly"] == round(CEILING["pay"], 2)
    assert teams["payments"]["budget_monthly"] == 50.0
    assert teams["payments"]["unbounded_namespaces"] == 1  # pay-batch
    assert teams["data"]["budget_monthly"] is None
    over = found(report, "quota-over-budget")
    assert set(over) == {"team payments", "team search"}
    assert round(over["team search"].amount, 2) == round(CEILING["srch"] - 100, 2)
    assert over["team search"].detail == ("quota allows 270.82 EUR/month, budget is 100.00 EUR")
    assert over["team payments"].detail.startswith("quota allows 74.40 EUR/month, budget is "
                                                   "50.00 EUR; 1 more namespace")


def test_unbounded_namespaces_with_their_spend(report: GovernanceReport) -> None:
    open_ = found(report, "unbounded-namespace")
    assert set(open_) == {"c1/pay-batch", "c1/lab"}  # data-ns, pay, srch have quotas
    assert open_["c1/pay-batch"].amount == pytest.approx(SPEND["pay-batch"])
    assert open_["c1/pay-batch"].team == "payments" and open_["c1/pay-batch"].exemption is None
    assert open_["c1/lab"].exemption == "lab-pilot" and open_["c1/lab"].team is None


def test_budgets_and_spend(report: GovernanceReport) -> None:
    assert {s: f.amount for s, f in found(report, "team-without-budget").items()} == \
        {"team ml": pytest.approx(DAYS * 1.00)}
    idle = found(report, "budget-without-spend")
    assert set(idle) == {"budget ghost-monthly", "budget c2-budget"}
    ghost = idle["budget ghost-monthly"]
    assert ghost.amount == 75 and ghost.team == "ghost"


def test_what_breaks_label_coverage(report: GovernanceReport) -> None:
    assert {s: round(f.amount, 2) for s, f in found(report, "unlabeled-workload").items()} == \
        {"c1/lab/nb": round(SPEND["lab"], 2)}
    assert found(report, "unlabeled-workload")["c1/lab/nb"].exemption == "lab-pilot"
    assert {s: round(f.amount, 2) for s, f in found(report, "untagged-resource").items()} == \
        {"AWS/bucket-x": 5.00}
    day = {(c["scope"], c["name"]): c for c in report.coverage if str(c["day"]) == "2026-10-03"}
    labelled = 0.96 + 0.24 + 0.48 + 2.40 + 0.384
    assert day[("cluster", "c1")]["share"] == round(labelled / (labelled + 0.24), 4)
    assert day[("cluster", "cloud:AWS")]["share"] == round(1.00 / 1.50, 4)
    assert day[("team", "payments")]["share"] == 1.0
    assert len(report.coverage) == DAYS * 5  # c1, cloud:AWS; payments, search, ml


def test_catalog_drift(report: GovernanceReport) -> None:
    mismatch = found(report, "catalog-owner-mismatch")
    assert set(mismatch) == {"c1/srch"}
    assert mismatch["c1/srch"].team == "search"
    assert mismatch["c1/srch"].amount == pytest.approx(SPEND["srch"])
    assert "the catalog says checkout" in mismatch["c1/srch"].detail
    assert set(found(report, "component-without-workload")) == {"component:default/old"}
    unlisted = found(report, "workload-without-entity")
    assert {s: round(f.amount, 2) for s, f in unlisted.items()} == \
        {"c1/pay-batch/etl": round(SPEND["pay-batch"], 2), "c1/lab/nb": round(SPEND["lab"], 2)}


def test_exemptions_and_expiry(report: GovernanceReport) -> None:
    rows = {e["name"]: e for e in report.exemptions}
    assert rows["lab-pilot"]["expired"] is False and rows["old-srch"]["expired"] is True
    assert rows["old-srch"]["spend"] == round(SPEND["srch"], 2)
    assert report.summary()["expired_exemptions"] == 1
    expired = found(report, "exemption-expired")["exemption old-srch"]
    assert expired.team == "search" and "search-lead@example.com" in expired.detail


def test_every_finding_carries_the_currency_of_the_data(report: GovernanceReport) -> None:
    assert report.currency == "EUR"
    assert {f.currency for f in report.findings} == {"EUR"}
    assert len(report.findings) == 14
    assert not any("$" in f.detail for f in report.findings)


def test_a_team_sees_only_its_own(report: GovernanceReport) -> None:
    mine = report.for_team("payments")
    assert {(f.kind, f.subject) for f in mine.findings} == {
        ("unbounded-namespace", "c1/pay-batch"), ("quota-over-budget", "team payments"),
        ("workload-without-entity", "c1/pay-batch/etl"),
        ("component-without-workload", "component:default/old")}  # payments owns it
    assert [r["team"] for r in mine.quota_ceilings] == ["payments"]
    assert {c["name"] for c in mine.coverage} == {"payments"}
    assert mine.exemptions == []  # lab and srch are not payments' namespaces

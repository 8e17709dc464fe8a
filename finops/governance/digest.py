"""The governance section of the weekly platform digest (Slack Block Kit).

``finops.alerts`` builds the digest and calls ``digest_section`` through its hook
(``alerts.digest_sections``); this module only renders: counts and money at stake by kind,
the teams whose quotas allow more than their budgets, the exemptions that expired.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb

from finops.governance.findings import money
from finops.governance.report import GovernanceReport, governance_report, month_to_date
from models.config import FinOpsConfig

TOP = 3


def digest_section(con: duckdb.DuckDBPyConnection, config: FinOpsConfig, through: date,
                   today: date | None = None) -> dict[str, Any] | None:
    """The section for the month to ``through`` (None when there is nothing to report)."""
    window = month_to_date(None, through, through, through)
    report = governance_report(con, config, window, today or datetime.now(UTC).date())
    return render(report) if report.findings else None


def render(report: GovernanceReport) -> dict[str, Any]:
    """``{"text": one line, "blocks": [...], "facts": summary}`` for the digest."""
    summary, cur = report.summary(), report.currency
    kinds = [f"• {kind}: {v['count']} ({money(v['amount'], cur)} at stake)"
             for kind, v in summary["by_kind"].items()]
    over = [f"• {f.subject}: {f.detail}" for f in report.findings
            if f.kind == "quota-over-budget"][:TOP]
    expired = [f"• {f.subject}: {f.detail}" for f in report.findings
               if f.kind == "exemption-expired"][:TOP]
    lines = ["*Governance* (month to date)", *kinds]
    lines += ["*Quotas that allow more than the budget*", *over] if over else []
    lines += ["*Expired exemptions*", *expired] if expired else []
    text = (f"Governance: {summary['findings']} findings; {summary['expired_exemptions']} "
            "expired exemptions. `finops governance` lists them.")
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}}
    return {"text": text, "blocks": [{"type": "divider"}, block], "facts": summary}

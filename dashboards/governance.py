"""The governance page: quota ceilings against budgets, label coverage over time, findings.

Frames and the report's rows in, HTML out (``dashboards.pages`` holds the page frame). Money
carries the report's currency code; the findings table is a real ``<table>`` with a caption
and column headers, so a screen reader can walk it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from typing import Any

import polars as pl

from dashboards.figures import COLORS, Figure, axis_title, bar, figure, line
from dashboards.pages import downloads, empty_card, figure_div, kpis

TABLE_STYLE = ("<style>table.findings{border-collapse:collapse;width:100%;font-size:13px}"
               "table.findings caption{text-align:left;font-weight:600;padding:8px}"
               "table.findings th,table.findings td{border-bottom:1px solid #d0d7de;"
               "padding:4px 8px;text-align:left;vertical-align:top}"
               "table.findings td.amount{text-align:right;white-space:nowrap}</style>")


def amount(value: float | None, currency: str | None) -> str:
    return "n/a" if value is None else f"{value:,.2f} {currency or ''}".rstrip()


def ceiling_vs_budget(rows: Sequence[dict[str, Any]], currency: str | None,
                      through: date | None) -> Figure:
    """Per team: what its ResourceQuotas allow a month against its monthly budget."""
    teams = [r["team"] for r in rows]
    data = [bar(teams, [r["ceiling_monthly"] for r in rows], name="quota allows / month",
                marker={"color": "#E45756"}),
            bar(teams, [r["budget_monthly"] for r in rows], name="budget / month",
                marker={"color": "#d0d7de"})]
    return figure(data, "Quota ceiling vs budget per team", through, barmode="group",
                  yaxis=axis_title(currency or ""))


def coverage_trend(rows: Sequence[dict[str, Any]], through: date | None) -> Figure:
    """Label coverage (share of direct spend a label or tag claimed) per cluster per day."""
    frame = pl.DataFrame([r for r in rows if r["scope"] == "cluster"])
    names = sorted(frame["name"].unique().to_list()) if frame.height else []
    data = []
    for i, name in enumerate(names):
        part = frame.filter(pl.col("name") == name).sort("day")
        data.append(line(part["day"].to_list(), [100 * (s or 0) for s in part["share"]], name,
                         "lines+markers", color=COLORS[i % len(COLORS)]))
    return figure(data, "Label coverage per cluster (% of direct spend a label claimed)",
                  through, yaxis={"range": [0, 100], **axis_title("%")})


def findings_table(findings: Sequence[dict[str, Any]], data_url: str, limit: int = 200) -> str:
    head = "".join(f'<th scope="col">{h}</th>' for h in
                   ("kind", "subject", "team", "at stake", "exemption", "detail"))
    body = "".join(
        f"<tr><td>{escape(f['kind'])}</td><td>{escape(f['subject'])}</td>"
        f"<td>{escape(f['team'] or '')}</td>"
        f'<td class="amount">{escape(amount(f["amount"], f["currency"]))}</td>'
        f"<td>{escape(f['exemption'] or '')}</td><td>{escape(f['detail'])}</td></tr>"
        for f in findings[:limit])
    shown = f" (largest {limit} of {len(findings)})" if len(findings) > limit else ""
    return (f'<section class="card wide">{TABLE_STYLE}<table class="findings">'
            f"<caption>Findings{shown}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{downloads(data_url)}</section>")


def tiles(report: dict[str, Any]) -> str:
    by_kind, currency = report["summary"]["by_kind"], report["currency"]
    def count(kind: str) -> str:
        entry = by_kind.get(kind, {"count": 0, "amount": 0.0})
        return f"{entry['count']} · {amount(entry['amount'], currency)}"
    return kpis([("findings", str(report["summary"]["findings"])),
                 ("unbounded namespaces", count("unbounded-namespace")),
                 ("quota over budget", count("quota-over-budget")),
                 ("unlabelled spend", count("unlabeled-workload")),
                 ("exemptions expired", f"{report['summary']['expired_exemptions']} of "
                                        f"{report['summary']['exemptions']}")])


def body(report: dict[str, Any], through: date | None, span: str) -> list[str]:
    """The page's cards from ``GovernanceReport.as_dict()``; ``span`` the window's query
    (``start=…&end=…``) each card's file is read over (``/api/governance?part=…``)."""
    def url(part: str) -> str:
        return f"/api/governance?{span}&part={part}"

    findings = sorted(report["findings"], key=lambda f: -f["amount"])
    ceilings = [r for r in report["quota_ceilings"] if r["ceiling_monthly"] is not None]
    return [
        tiles(report),
        figure_div(ceiling_vs_budget(ceilings, report["currency"], through), "quota-budget",
                   data_url=url("quota_ceilings"))
        if ceilings else empty_card("No ResourceQuota bounds any team's namespaces."),
        figure_div(coverage_trend(report["coverage"], through), "label-coverage",
                   data_url=url("coverage"))
        if any(r["scope"] == "cluster" for r in report["coverage"])
        else empty_card("No label coverage for this window."),
        findings_table(findings, url("findings")) if findings
        else empty_card("No findings.", True),
    ]

"""The monthly showback: per team, a self-contained HTML report, its PDF (headless Chromium's
print-to-PDF) and the CSV of the allocation lines behind it; what finance emails each month.

Every amount is summed from the team's allocation rows of the month (the CSV holds exactly
those rows), so a report's total is the CSV's total and the teams' totals plus unowned spend
are the allocation's (``index.csv`` says so, line by line). The HTML has no script and loads
nothing: inline style and an inline SVG chart, so it prints and mails as it is.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from pathlib import Path
from typing import Any

import polars as pl

from finops.reports.explain import currency_of, explain_team
from models.currency import format_money
from models.errors import FinOpsError, InputError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
LINE_COLUMNS = ("day", "provider", "billing_account_id", "sub_account_id", "cluster",
                "namespace", "workload_kind", "workload_name", "service_name", "resource_id",
                "cost_kind", "owner_rule", "shared_from", "currency", "billed_cost",
                "effective_cost", "list_cost")
PDF_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-pdf-header-footer")
STYLE = """
@page { size: A4; margin: 14mm; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       margin: 24px; font-size: 13px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 20px 0 6px; }
p.meta { color: #57606a; margin: 0 0 12px; }
.total { font-size: 28px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
th, td { border-bottom: 1px solid #d0d7de; padding: 3px 6px; text-align: left; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr { page-break-inside: avoid; }
svg text { font-size: 10px; fill: #57606a; }
"""


@dataclass(frozen=True)
class Month:
    first: date
    last: date

    @property
    def label(self) -> str:
        return self.first.strftime("%Y-%m")


def parse_month(text: str) -> Month:
    found = MONTH.match(text.strip())
    if not found:
        raise InputError(f"--month {text!r}: expected YYYY-MM, e.g. 2026-10")
    first = date(int(found.group(1)), int(found.group(2)), 1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Month(first, following - timedelta(days=1))


def lines(frame: pl.DataFrame) -> pl.DataFrame:
    """The CSV lines: the team's allocation rows, in a stable order."""
    keep = [c for c in LINE_COLUMNS if c in frame.columns]
    return frame.select(keep).sort([c for c in keep if c not in
                                    ("billed_cost", "effective_cost", "list_cost")],
                                   nulls_last=True)


def _money(amount: float, currency: str | None, locale: str) -> str:
    return format_money(amount, currency, locale)


def daily_svg(frame: pl.DataFrame, month: Month, currency: str | None, locale: str) -> str:
    """Daily effective cost as bars, with the largest day's amount as the scale."""
    per_day = dict(frame.group_by("day").agg(pl.col("effective_cost").sum()).iter_rows())
    days = [month.first + timedelta(days=i) for i in range((month.last - month.first).days + 1)]
    top = max([v for v in per_day.values() if v > 0] or [1.0])
    width, height, step = 620, 140, 620 / len(days)
    bars = "".join(
        f'<rect x="{i * step + 1:.1f}" y="{height - 110 * max(per_day.get(d, 0.0), 0) / top:.1f}"'
        f' width="{step - 2:.1f}" height="{110 * max(per_day.get(d, 0.0), 0) / top:.1f}" '
        f'fill="#0969da"><title>{d}: {escape(_money(per_day.get(d, 0.0), currency, locale))}'
        "</title></rect>" for i, d in enumerate(days))
    return (f'<svg role="img" aria-label="Daily effective cost in {month.label}" '
            f'viewBox="0 0 {width} {height + 16}" width="100%">{bars}'
            f'<text x="0" y="{height + 14}">{month.first}</text>'
            f'<text x="{width}" y="{height + 14}" text-anchor="end">{month.last}</text>'
            f'<text x="0" y="24">max {escape(_money(top, currency, locale))} a day</text></svg>')


def _table(headers: list[str], rows: list[list[str]], numeric: int) -> str:
    """A table whose last ``numeric`` columns are right-aligned; cells escaped here."""
    first = len(headers) - numeric
    head = "".join(f'<th scope="col"{" class=num" if i >= first else ""}>{escape(h)}</th>'
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i >= first else ""}>{escape(c)}</td>'
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _by(frame: pl.DataFrame, keys: list[str], currency: str | None, locale: str,
        limit: int = 25) -> list[list[str]]:
    grouped = frame.group_by(keys).agg(pl.col("effective_cost").sum()).sort(
        "effective_cost", descending=True).head(limit)
    return [[*("" if r[k] is None else str(r[k]) for k in keys),
             _money(r["effective_cost"], currency, locale)] for r in grouped.iter_rows(named=True)]


def html(team: str, month: Month, frame: pl.DataFrame, locale: str, generated: str) -> str:
    """The team's report of the month from its allocation rows."""
    currency = currency_of(frame)
    report = explain_team(frame, team)
    total = float(frame["effective_cost"].sum())
    sections = [
        ("By kind of charge", ["cost kind"], _by(frame, ["cost_kind"], currency, locale)),
        ("Where (cluster and namespace, or cloud service)",
         ["cluster", "namespace", "service"],
         _by(frame, ["cluster", "namespace", "service_name"], currency, locale)),
        ("Shared charges by origin", ["cluster", "shared from"],
         [[str(s["cluster"] or ""), str(s["shared_from"] or ""),
           _money(s["effective_cost"], currency, locale)] for s in report["shared"]]),
        ("Ownership rules that claimed the cost", ["rule"],
         [[str(r["owner_rule"] or "spread"), _money(r["effective_cost"], currency, locale)]
          for r in report["rules"]]),
    ]
    parts = "".join(f"<h2>{escape(title)}</h2>{_table([*heads, 'effective cost'], rows, 1)}"
                    for title, heads, rows in sections if rows)
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Showback {escape(team)} {month.label}</title><style>{STYLE}</style></head>"
            f"<body><h1>Showback: {escape(team)}, {month.label}</h1>"
            f'<p class="meta">{month.first} – {month.last}, amounts in {escape(currency or "")}'
            f", generated {escape(generated)} from the allocation "
            f"({frame.height} lines in the CSV beside this report)</p>"
            f'<div class="total">{escape(_money(total, currency, locale))}</div>'
            f'<p class="meta">effective cost (billed '
            f"{escape(_money(float(frame['billed_cost'].sum()), currency, locale))})</p>"
            f"{daily_svg(frame, month, currency, locale)}{parts}</body></html>")


def print_pdf(browser: str, source: Path, target: Path, timeout_s: float = 120.0) -> None:
    """``source`` (an HTML file) printed to ``target`` by headless Chromium."""
    command = [browser, *PDF_FLAGS, f"--print-to-pdf={target}", source.resolve().as_uri()]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FinOpsError(f"printing {source} to PDF with {browser} failed: {exc}") from None
    if done.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise FinOpsError(f"printing {source} to PDF with {browser} failed "
                          f"(exit {done.returncode}): {tail[0][:300]}")


def totals_frame(per_team: dict[str, float], unowned: float, allocation: float,
                 currency: str | None) -> pl.DataFrame:
    """``index.csv``: each team's total, unowned spend, their sum and the allocation's."""
    names = [*sorted(per_team), "(unowned)", "(sum)", "(allocation)"]
    amounts = [*(per_team[t] for t in sorted(per_team)), unowned,
               sum(per_team.values()) + unowned, allocation]
    return pl.DataFrame({"team": names, "currency": [currency] * len(names),
                         "effective_cost": [round(a, 2) for a in amounts]})


def file_stem(team: str, month: Month) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", team)
    return f"showback-{safe}-{month.label}"


def write_team(out: Path, team: str, month: Month, frame: pl.DataFrame, locale: str,
               generated: str, browser: str | None) -> dict[str, Any]:
    """The team's HTML, CSV and (with a ``browser``) PDF; their paths and total."""
    folder = out / re.sub(r"[^A-Za-z0-9_.-]", "_", team)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / file_stem(team, month)
    page, csv = stem.with_suffix(".html"), stem.with_suffix(".csv")
    page.write_text(html(team, month, frame, locale, generated), encoding="utf-8")
    lines(frame).write_csv(csv)
    pdf = stem.with_suffix(".pdf") if browser else None
    if browser and pdf:
        print_pdf(browser, page, pdf)
    return {"team": team, "html": page, "csv": csv, "pdf": pdf,
            "effective_cost": float(frame["effective_cost"].sum())}

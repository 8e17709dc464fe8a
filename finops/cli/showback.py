"""``finops report showback --month YYYY-MM --out DIR``: per team an HTML report, its PDF and
the CSV of its allocation lines (``finops.reports.showback``), and ``index.csv`` with every
team's total, unowned spend and the allocation's total."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import typer

from finops.cli.common import money, note, note_plain, report_app, state
from finops.reports import showback
from finops.reports.explain import currency_of
from finops.warehouse import open_snapshot
from models.errors import FinOpsError, InputError, NotFound

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_browser(given: str | None) -> str:
    """The Chromium that prints the PDFs: ``--browser``, else the first on PATH."""
    found = shutil.which(given) if given else next(
        (b for b in (shutil.which(n) for n in BROWSERS) if b), None)
    if not found:
        named = f"{given!r} is not an executable" if given else "no Chromium on PATH"
        raise InputError(f"--browser: {named}: install chromium, pass --browser PATH, or "
                         "--no-pdf for HTML and CSV only")
    return found


def read_month(month: showback.Month) -> pl.DataFrame:
    con = open_snapshot(state.settings.snapshot_path)
    try:
        return con.sql("SELECT * FROM allocation WHERE day BETWEEN $first AND $last",
                       params={"first": month.first, "last": month.last}).pl()
    finally:
        con.close()


@report_app.command("showback")
def report_showback(
    month_text: str = typer.Option(..., "--month", help="The month, YYYY-MM."),
    out: Path = typer.Option(..., "--out", help="Directory to write the reports into."),
    team: list[str] = typer.Option([], "--team", help="Only these teams (repeat)."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Print each report to PDF."),
    browser: str | None = typer.Option(None, "--browser",
                                       help="Chromium for the PDFs (default: on PATH)."),
) -> None:
    """Per team: a self-contained HTML report, its PDF and the CSV lines behind it; totals
    equal the allocation (index.csv)."""
    month = showback.parse_month(month_text)
    printer = find_browser(browser) if pdf else None
    rows = read_month(month)
    if not rows.height:
        raise NotFound(f"no allocated cost in {month.label} (run `finops allocate` for it)")
    teams = sorted(t for t in rows["team"].unique().to_list() if t is not None)
    missing = sorted(set(team) - set(teams))
    if missing:
        raise NotFound(f"--team {', '.join(missing)}: no allocated cost in {month.label}")
    currency = currency_of(rows)
    out.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    per_team: dict[str, float] = {}
    for name in team or teams:
        written = showback.write_team(out, name, month, rows.filter(pl.col("team") == name),
                                      state.settings.locale, generated, printer)
        per_team[name] = written["effective_cost"]
        note_plain(f"{name}: {money(written['effective_cost'], currency)} -> "
                   f"{written['html'].parent}")
    unowned = float(rows.filter(pl.col("team").is_null())["effective_cost"].sum())
    index = showback.totals_frame(per_team, unowned, float(rows["effective_cost"].sum()),
                                  currency)
    if not team and abs(sum(per_team.values()) + unowned - index["effective_cost"][-1]) > 0.005:
        raise FinOpsError("the teams' totals and unowned spend do not add up to the allocation")
    index.write_csv(out / f"index-{month.label}.csv")
    note(f"{len(per_team)} team reports for {month.label} in {out} "
         f"({'HTML, PDF and CSV' if printer else 'HTML and CSV'}); allocation "
         f"{money(float(rows['effective_cost'].sum()), currency)}, unowned "
         f"{money(unowned, currency)}")

"""A two-currency organisation built from the real sample exports in tests/ingestion/data/.

- **USD**: the FinOps Foundation FOCUS 1.0 sample (AWS rows), billing account 1234567890123;
- **EUR**: koku's GCP detailed billing export (``2022-08-01_5.csv``) with ``currency`` EUR
  and the rate the export carries, ``currency_conversion_rate`` (1 USD = ``EUR_PER_USD`` EUR);
- **JPY**: Microsoft's EA actual-cost sample (``EA_ActualCost_Small.csv``) in yen, with no
  rate of its own: the rate comes from finops.yaml (or a loaded CSV).

Only values change (currency, rate, amounts, dates moved to October 2026, a ``team`` tag in
each format's own tag syntax); headers, column order and formats stay the samples'. Every
line is recorded in ``Line`` so tests compute what they expect from the lines themselves
(amount as billed x the stated rate), never from the program.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

DATA = Path(__file__).resolve().parent.parent / "ingestion" / "data"
EUR_PER_USD = 0.92  # the GCP export's currency_conversion_rate: 1 USD = 0.92 EUR
USD_PER_JPY = 0.0067  # finops.yaml / the CSV: 1 JPY = 0.0067 USD
TEAMS = ("checkout", "search", None)  # None: no team tag (unowned, untagged-resource)
USD_ACCOUNT, EUR_ACCOUNT, JPY_ACCOUNT = "1234567890123", "018984-D0AAA4-940B88", "8611537"


@dataclass(frozen=True)
class Line:
    currency: str
    account: str
    team: str | None
    amount: float  # effective cost as billed, in ``currency``
    day: int  # of October 2026


def _team(i: int) -> str | None:
    return TEAMS[i % len(TEAMS)]


def _csv(frame: pl.DataFrame, path: Path) -> Path:
    frame.write_csv(path, null_value="")
    return path


def usd_focus(directory: Path, lines: list[Line], n: int = 12) -> Path:
    """The FOCUS sample's first ``n`` rows, re-dated, amounts and team tags set."""
    frame = pl.read_csv(DATA / "focus-1.0" / "focus_sample.csv", infer_schema=False,
                        n_rows=n)
    amounts = [round(40.0 + 7.31 * i, 2) for i in range(n)]
    days = [1 + (i // 2) % 3 for i in range(n)]
    tags = [json.dumps({"team": t}) if (t := _team(i)) else "{}" for i in range(n)]
    lines += [Line("USD", USD_ACCOUNT, _team(i), amounts[i], days[i]) for i in range(n)]
    money = [str(a) for a in amounts]
    frame = frame.with_columns(
        pl.Series("BilledCost", money), pl.Series("EffectiveCost", money),
        pl.Series("ListCost", money), pl.Series("ContractedCost", money),
        pl.Series("Tags", tags), pl.lit("2026-10-01 00:00:00").alias("BillingPeriodStart"),
        pl.lit("2026-11-01 00:00:00").alias("BillingPeriodEnd"),
        pl.Series("ChargePeriodStart", [f"2026-10-0{d} 10:00:00" for d in days]),
        pl.Series("ChargePeriodEnd", [f"2026-10-0{d} 11:00:00" for d in days]),
        pl.lit("Usage").alias("ChargeCategory"), pl.lit(None, pl.String).alias("ChargeClass"))
    return _csv(frame, directory / "focus_usd.csv")


def eur_gcp(directory: Path, lines: list[Line], rate: float = EUR_PER_USD) -> Path:
    """koku's detailed GCP export in EUR, carrying its own USD -> EUR rate."""
    frame = pl.read_csv(DATA / "gcp-billing" / "2022-08-01_5.csv", infer_schema=False)
    n = frame.height
    amounts = [round(9.2 + 3.17 * i, 4) for i in range(n)]
    days = [1 + (i // 2) % 3 for i in range(n)]
    labels = [str([{"key": "team", "value": t}]) if (t := _team(i)) else "[]" for i in range(n)]
    lines += [Line("EUR", EUR_ACCOUNT, _team(i), amounts[i], days[i]) for i in range(n)]
    frame = frame.with_columns(
        pl.Series("cost", [str(a) for a in amounts]), pl.lit("EUR").alias("currency"),
        pl.lit(str(rate)).alias("currency_conversion_rate"), pl.Series("labels", labels),
        pl.lit("[]").alias("credits"), pl.lit("202610").alias("invoice.month"),
        pl.Series("usage_start_time", [f"2026-10-0{d} 03:00:00+00:00" for d in days]),
        pl.Series("usage_end_time", [f"2026-10-0{d} 04:00:00+00:00" for d in days]),
        pl.Series("resource.global_name", [f"//compute.googleapis.com/disk-{i}"
                                           for i in range(n)]))
    return _csv(frame, directory / "gcp_eur.csv")


def jpy_azure(directory: Path, lines: list[Line]) -> Path:
    """Microsoft's EA actual-cost sample billed in yen (whole yen: JPY has no minor unit)."""
    frame = pl.read_csv(DATA / "azure-toolkit" / "EA_ActualCost_Small.csv", infer_schema=False)
    n = frame.height
    amounts = [float(1500 + 731 * i) for i in range(n)]
    days = [1 + (i // 2) % 3 for i in range(n)]
    tags = [f'"team": "{t}","env": "prod"' if (t := _team(i)) else "" for i in range(n)]
    lines += [Line("JPY", JPY_ACCOUNT, _team(i), amounts[i], days[i]) for i in range(n)]
    frame = frame.with_columns(
        pl.Series("Cost", [str(int(a)) for a in amounts]), pl.lit("JPY").alias("BillingCurrency"),
        pl.Series("Tags", tags), pl.lit("Usage").alias("ChargeType"),
        pl.lit("OnDemand").alias("PricingModel"),
        pl.Series("Date", [f"10/0{d}/2026" for d in days]),
        pl.lit("10/01/2026").alias("BillingPeriodStartDate"),
        pl.lit("10/31/2026").alias("BillingPeriodEndDate"))
    return _csv(frame, directory / "EA_ActualCost_jpy.csv")


@dataclass
class Organisation:
    directory: Path
    focus: Path
    gcp: Path
    azure: Path
    lines: list[Line]

    @property
    def db(self) -> Path:
        return self.directory / "finops.duckdb"

    def ingest_args(self) -> list[list[str]]:
        return [["ingest", "focus", str(self.focus)], ["ingest", "gcp-billing", str(self.gcp)],
                ["ingest", "azure", str(self.azure)]]


def build(directory: Path) -> Organisation:
    """The three export files of the organisation, and every line they hold."""
    lines: list[Line] = []
    return Organisation(directory, usd_focus(directory, lines), eur_gcp(directory, lines),
                        jpy_azure(directory, lines), lines)


def to_usd(line: Line, usd_per_jpy: float = USD_PER_JPY) -> float:
    """A line's amount in USD at the stated rates, by hand."""
    rate = {"USD": 1.0, "EUR": 1.0 / EUR_PER_USD, "JPY": usd_per_jpy}[line.currency]
    return line.amount * rate


def team_totals(lines: list[Line]) -> dict[str | None, float]:
    """USD per team (None: unowned), converted line by line."""
    totals: dict[str | None, float] = {}
    for line in lines:
        totals[line.team] = totals.get(line.team, 0.0) + to_usd(line)
    return totals


def write_config(path: Path, *, jpy_rate: bool = True, reporting: str | None = "USD",
                 **extra: object) -> Path:
    """finops.yaml: the reporting currency and (unless ``jpy_rate`` is False) the JPY rate."""
    config: dict[str, object] = dict(extra)
    if reporting:
        config["reporting_currency"] = reporting
    if jpy_rate:
        config["fx"] = {"rates": [{"from": "JPY", "to": "USD", "month": "2026-10",
                                   "rate": USD_PER_JPY}]}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path

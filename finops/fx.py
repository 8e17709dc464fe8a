"""Exchange rates: the rate that converts an amount between two currencies on a day, and where
it came from (``convert(amount, from, to, day) -> Converted(amount, rate, source)``).

Direction: a rate is always "1 ``from_currency`` = ``rate`` ``to_currency``", and every
rate converts the other way at 1 / rate. The exports' own rates are stored as they come
(``cost_line.x_pricing_exchange_rate``: 1 ``pricing_currency`` = x ``billing_currency``; GCP's
``currency_conversion_rate`` is USD -> the billing currency), so converting the bill to the
pricing currency uses 1 / x.

Where a rate comes from, in order (``source`` on every converted amount):
1. ``same-currency`` (rate 1);
2. the rate the export itself carries for that billing account and day (``export:<source>``;
   the allocation uses it first, see ``finops.pipeline.currency``; for other conversions, such
   as budgets, the exports' rates of that day are the last resort below);
3. ``finops.yaml`` ``fx.rates`` (``finops.yaml``);
4. the rates loaded with ``finops fx load FILE`` (table ``fx_rate``, ``file:<name>``);
5. the exports' rates of that day, across accounts (``export:<source>``).
Within one source a daily rate wins over a monthly one, and a rate stated in the asked
direction over the inverse of the opposite one. No rate: ``CurrencyError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from models.config import FinOpsConfig
from models.errors import CurrencyError
from models.loads import FrameReader
from models.schemas import FX_RATE

SAME = "same-currency"
CONFIG_SOURCE = "finops.yaml"
CANDIDATE = pl.Schema({"from_currency": pl.String, "to_currency": pl.String,
                       "valid_from": pl.Date, "valid_to": pl.Date, "rate": pl.Float64,
                       "source": pl.String})
WANTED = ("day", "from_currency", "to_currency")


@dataclass(frozen=True)
class Converted:
    """An amount converted, with the rate (1 from = rate to) and its source."""

    amount: float
    rate: float
    source: str


def month_bounds(month: str) -> tuple[date, date]:
    """First day of ``month`` (``2026-10``) and of the month after it."""
    first = date.fromisoformat(f"{month}-01")
    return first, (first + timedelta(days=32)).replace(day=1)


def config_rates(config: FinOpsConfig) -> pl.DataFrame:
    """``fx.rates`` of finops.yaml as candidate rows."""
    rows = []
    for rate in config.fx.rates:
        first, following = (month_bounds(rate.month) if rate.month
                            else (rate.day, rate.day + timedelta(days=1)))  # type: ignore[operator]
        rows.append({"from_currency": rate.from_currency, "to_currency": rate.to,
                     "valid_from": first, "valid_to": following, "rate": rate.rate,
                     "source": CONFIG_SOURCE})
    return pl.DataFrame(rows, schema=CANDIDATE)


def loaded_rates(reader: FrameReader) -> pl.DataFrame:
    """The rates of ``finops fx load`` (table ``fx_rate``) as candidate rows."""
    columns = ", ".join(CANDIDATE.names())
    return reader.frame(f"SELECT {columns} FROM {FX_RATE.name}").cast(CANDIDATE)


# The export rates of each billing account and day: the cost-weighted mean of 1 / rate (so a
# day's converted total is the sum of its lines converted one by one), billing -> pricing.
# Lines spanning several days (a monthly fee) count on each day they cover.
EXPORT_RATES_SQL = """
SELECT billing_account_id, billing_currency, pricing_currency, x_source,
       charge_period_start::DATE AS first_day,
       greatest(charge_period_end - INTERVAL 1 MICROSECOND, charge_period_start)::DATE
           AS last_day,
       sum(abs(effective_cost)) AS weight,
       sum(abs(effective_cost) / x_pricing_exchange_rate) AS weighted,
       avg(1.0 / x_pricing_exchange_rate) AS plain
FROM cost_line
WHERE x_pricing_exchange_rate > 0 AND pricing_currency IS NOT NULL
  AND pricing_currency IS DISTINCT FROM billing_currency
  AND charge_period_start < $end AND charge_period_end > $start
GROUP BY ALL
"""


def export_rates(reader: FrameReader, start: date, end: date) -> pl.DataFrame:
    """Per (billing account, day) in ``start``..``end``: 1 billing_currency = ``rate``
    pricing_currency, as the export states it (columns ``billing_account_id, day,
    from_currency, to_currency, rate, source``)."""
    found = reader.frame(EXPORT_RATES_SQL, {"start": start, "end": end + timedelta(days=1)})
    days = found.with_columns(pl.date_ranges("first_day", "last_day").alias("day")).explode(
        "day", empty_as_null=True).filter(pl.col("day").is_between(start, end))
    summed = days.group_by("billing_account_id", "day", "billing_currency",
                           "pricing_currency").agg(
        pl.col("weight").sum(), pl.col("weighted").sum(), pl.col("plain").mean(),
        pl.col("x_source").drop_nulls().sort().first())
    # 12 significant digits: a mean of equal rates is that rate, not it plus float noise
    rate = pl.when(pl.col("weight") > 0).then(pl.col("weighted") / pl.col("weight")).otherwise(
        pl.col("plain")).round_sig_figs(12)
    return summed.select(
        "billing_account_id", "day", pl.col("billing_currency").alias("from_currency"),
        pl.col("pricing_currency").alias("to_currency"), rate.alias("rate"),
        (pl.lit("export:") + pl.col("x_source").fill_null("bill")).alias("source"))


def export_day_rates(by_account: pl.DataFrame) -> pl.DataFrame:
    """``export_rates`` across accounts: one candidate per (pair, day), the mean rate."""
    per_day = by_account.group_by("day", "from_currency", "to_currency").agg(
        pl.col("rate").mean().round_sig_figs(12), pl.col("source").sort().first())
    return per_day.select(
        "from_currency", "to_currency", pl.col("day").alias("valid_from"),
        (pl.col("day") + pl.duration(days=1)).alias("valid_to"), "rate", "source",
    ).cast(CANDIDATE)


class Rates:
    """Candidate rates in order of preference (earlier tables first), looked up by day."""

    def __init__(self, *tables: pl.DataFrame) -> None:
        ranked = [t.select(CANDIDATE.names()).cast(CANDIDATE).with_columns(
            pl.lit(rank).alias("_rank")) for rank, t in enumerate(tables)]
        stated = pl.concat(ranked) if ranked else pl.DataFrame(
            schema={**dict(CANDIDATE), "_rank": pl.Int32})
        stated = stated.with_columns(pl.lit(0).alias("_inverse"))
        inverse = stated.with_columns(
            pl.col("to_currency").alias("from_currency"),
            pl.col("from_currency").alias("to_currency"),
            (1.0 / pl.col("rate")).alias("rate"), pl.lit(1).alias("_inverse"))
        self.candidates = pl.concat([stated, inverse]).with_columns(
            (pl.col("valid_to") - pl.col("valid_from")).dt.total_days().alias("_width"))

    @classmethod
    def read(cls, reader: FrameReader, config: FinOpsConfig,
             exports: tuple[date, date] | None = None) -> Rates:
        """finops.yaml, then the loaded rates, then (over ``exports``, a window) the rates
        the exports carry."""
        tables = [config_rates(config), loaded_rates(reader)]
        if exports is not None:
            tables.append(export_day_rates(export_rates(reader, *exports)))
        return cls(*tables)

    def lookup(self, wanted: pl.DataFrame) -> pl.DataFrame:
        """``wanted`` (``day, from_currency, to_currency`` and any other columns) with
        ``fx_rate`` and ``fx_source``: the best rate of each row, null where none."""
        keyed = wanted.with_row_index("_w")
        matched = keyed.join(self.candidates, on=["from_currency", "to_currency"]).filter(
            (pl.col("valid_from") <= pl.col("day")) & (pl.col("day") < pl.col("valid_to")))
        best = matched.sort("_w", "_rank", "_width", "_inverse").group_by(
            "_w", maintain_order=True).first().select(
            "_w", pl.col("rate").alias("fx_rate"), pl.col("source").alias("fx_source"))
        same = pl.col("from_currency") == pl.col("to_currency")
        found = keyed.join(best, on="_w", how="left")
        return found.with_columns(
            pl.when(same).then(1.0).otherwise(pl.col("fx_rate")).alias("fx_rate"),
            pl.when(same).then(pl.lit(SAME)).otherwise(pl.col("fx_source")).alias("fx_source"),
        ).drop("_w")

    def rate(self, from_currency: str, to_currency: str, day: date) -> tuple[float, str]:
        """1 ``from_currency`` = rate ``to_currency`` on ``day``, and the rate's source."""
        wanted = pl.DataFrame({"day": [day], "from_currency": [from_currency],
                               "to_currency": [to_currency]})
        row = self.lookup(wanted).row(0, named=True)
        if row["fx_rate"] is None:
            raise CurrencyError(
                f"no exchange rate from {from_currency} to {to_currency} for {day:%Y-%m} "
                f"({day}): add one to finops.yaml `fx.rates` or load a CSV of rates with "
                "`finops fx load FILE`")
        return float(row["fx_rate"]), str(row["fx_source"])

    def convert(self, amount: float, from_currency: str, to_currency: str,
                day: date) -> Converted:
        """``amount`` in ``from_currency`` as ``to_currency`` on ``day``."""
        rate, source = self.rate(from_currency, to_currency, day)
        return Converted(amount * rate, rate, source)


def in_currency(frame: pl.DataFrame, rates: Rates, to: str,
                money: tuple[str, ...] = ("effective_cost",)) -> tuple[pl.DataFrame, dict]:
    """``frame`` (with ``day``, ``currency`` and the ``money`` columns) with its money in
    ``to``, converted row by row at each day's rate; and how: ``{"from", "to", "rate",
    "source"}`` of its last day (with ``"rates": [low, high]`` when the rate changed). A day
    without a rate is a ``CurrencyError`` naming the currencies and the month."""
    if not frame.height:
        return frame, {}
    wanted = frame.with_columns(pl.col("currency").alias("from_currency"),
                                pl.lit(to).alias("to_currency"))
    looked = rates.lookup(wanted)
    missing = looked.filter(pl.col("fx_rate").is_null())
    if missing.height:
        first = missing.sort("day").row(0, named=True)
        rates.rate(first["from_currency"], to, first["day"])  # raises, naming them
    converted = looked.with_columns(pl.col(m) * pl.col("fx_rate") for m in money)
    last = looked.sort("day").row(-1, named=True)
    low, high = looked["fx_rate"].min(), looked["fx_rate"].max()
    how = {"from": last["from_currency"], "to": to, "rate": last["fx_rate"],
           "source": last["fx_source"]} | ({"rates": [low, high]} if low != high else {})
    return converted.select(frame.columns).with_columns(pl.lit(to).alias("currency")), how

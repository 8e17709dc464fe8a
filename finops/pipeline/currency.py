"""Money in the reporting currency: the step after the engine.

The engine is currency-agnostic: each of its rows carries its billing account, and every
amount is in that account's billing currency (estimates, which have no account, in the
currency of the prices they come from: the price catalog's, or finops.yaml
``allocation.prices.currency``). Before the run, ``plan`` decides the reporting currency and
the rate of every (day, billing account) of the window (``finops.fx`` says from where, the
export's own rate first); a currency, account and month without a rate fail the run before
anything is allocated. After the engine, ``to_reporting`` keeps the amounts as billed in
``billing_*`` and puts the converted ones in ``billed_cost``, ``effective_cost`` and
``list_cost``; ``plan.applied`` is what ``allocation_fx`` records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from finops.fx import Rates, config_rates, export_day_rates, export_rates, loaded_rates
from models.config import FinOpsConfig
from models.errors import CurrencyError
from models.loads import FrameReader
from models.schemas import ALLOCATION, ALLOCATION_FX

MONEY = ("billed_cost", "effective_cost", "list_cost")
ESTIMATED = ("catalog", "configured")
KEYS = ["day", "billing_account_id", "priced_by"]

# Each (billing account, currency) and the days its lines cover in the window.
ACCOUNT_DAYS_SQL = """
SELECT DISTINCT billing_account_id, billing_currency,
       charge_period_start::DATE AS first_day,
       greatest(charge_period_end - INTERVAL 1 MICROSECOND, charge_period_start)::DATE
           AS last_day
FROM cost_line
WHERE charge_period_start < $end AND charge_period_end > $start
"""


@dataclass(frozen=True)
class FxPlan:
    """The reporting currency, why it is that one, and the rate of every (day, billing
    account, priced_by) of a window (``ALLOCATION_FX`` columns but ``run_id``; estimates
    without a rate have none, and fail only if the engine makes such an estimate)."""

    currency: str
    chosen_by: str
    rates: pl.DataFrame

    def applied(self, run_id: str) -> pl.DataFrame:
        """The rows of ``allocation_fx`` for this run (the rates that exist)."""
        found = self.rates.filter(pl.col("fx_rate").is_not_null())
        return found.with_columns(pl.lit(run_id).alias("run_id")).select(ALLOCATION_FX.columns)


def plan(reader: FrameReader, config: FinOpsConfig, days: list[date]) -> FxPlan:
    """Choose the reporting currency and rate every (day, billing account) of ``days`` (sorted;
    any set, e.g. the days ``allocate --changed`` owes); ``CurrencyError`` naming each
    currency, account and month that has no rate."""
    start, end = window = (days[0], days[-1])
    stated = [config_rates(config), loaded_rates(reader)]
    by_account = export_rates(reader, start, end)
    generic = Rates(*stated, export_day_rates(by_account))
    found = account_days(reader, start, end).filter(pl.col("day").is_in(days))
    billed_in = sorted(set(found["billing_currency"].to_list()))
    held = held_elsewhere(reader, days)  # read once: the choice and the check both need it
    currency, why = chosen_currency(reader, config, generic, window, billed_in, held)
    check_allocated(held, currency)
    bill = _bill_rates(found, Rates(*stated), by_account, currency)
    _fail_on_missing(bill, currency)
    estimates = _estimate_rates(reader, config, generic, currency, window)
    rates = pl.concat([bill, estimates], how="diagonal_relaxed")
    return FxPlan(currency, why, rates.filter(pl.col("day").is_in(days))
                  .select(ALLOCATION_FX.columns[:-1]))


# Each billing currency's effective cost per day of the window, and its count of lines.
CURRENCY_DAYS_SQL = """
SELECT day, billing_currency, sum(effective_cost) AS amount, count(*) AS lines
FROM cost_line_daily
WHERE day BETWEEN $start AND $end AND charge_period_start < $next AND charge_period_end > $first
GROUP BY ALL
"""


def chosen_currency(reader: FrameReader, config: FinOpsConfig, rates: Rates,
                    window: tuple[date, date], billed_in: list[str],
                    held: list[str | None]) -> tuple[str, str]:
    """The reporting currency and why: finops.yaml ``reporting_currency``, else the one the
    other allocated days are in (a run of a few changed days keeps it), else the currency
    of the largest share of the window's bill (its amounts converted at the stated rates to
    compare them), else, when no rates compare them, the currency of the most lines.
    ``billed_in``: the window's billing currencies (one needs no comparing); ``held``: the
    currencies of the other days allocated (``held_elsewhere``)."""
    if config.reporting_currency:
        return config.reporting_currency, "reporting_currency in finops.yaml"
    kept = [c for c in held if c is not None]
    if len(kept) == 1:
        return kept[0], "the currency of the other days already allocated"
    if len(billed_in) == 1:
        return billed_in[0], "the only billing currency"
    if not billed_in:
        return _already_allocated(reader, config)
    return _largest_share(reader, rates, window, billed_in)


def _already_allocated(reader: FrameReader, config: FinOpsConfig) -> tuple[str, str]:
    """A window without a bill (estimates only) keeps the currency already allocated."""
    held = [c for c in _allocated_currencies(reader, "true", {}) if c is not None]
    if len(held) == 1:
        return held[0], "no bill in the window: the currency already allocated"
    return config.allocation.prices.currency, "no bill: the currency of finops.yaml prices"


def _largest_share(reader: FrameReader, rates: Rates, window: tuple[date, date],
                   billed_in: list[str]) -> tuple[str, str]:
    """The billing currency of the largest share of the window's bill, compared in the first
    currency (by lines) every other one converts to at the stated rates."""
    start, end = window
    days = reader.frame(CURRENCY_DAYS_SQL, {"start": start, "end": end, "first": start,
                                            "next": end + timedelta(days=1)})
    lines = days.group_by("billing_currency").agg(pl.col("lines").sum()).sort(
        "lines", "billing_currency", descending=[True, False])
    found = [c for c in lines["billing_currency"].to_list() if c] or billed_in
    for anchor in found:
        shares = _shares(days, rates, anchor)
        if shares is not None:
            best = max(shares, key=lambda c: (shares[c], c == anchor))
            return best, f"the largest share of the bill ({shares[best]:.0%}, compared in {anchor})"
    return found[0], "the billing currency of the most lines (no rates compare the currencies)"


def _shares(days: pl.DataFrame, rates: Rates, anchor: str) -> dict[str, float] | None:
    """Each currency's share of the bill converted to ``anchor``; None if a rate is missing."""
    wanted = days.filter(pl.col("billing_currency").is_not_null()).with_columns(
        pl.col("billing_currency").alias("from_currency"), pl.lit(anchor).alias("to_currency"))
    looked = rates.lookup(wanted)
    if looked["fx_rate"].null_count():
        return None
    totals = looked.group_by("billing_currency").agg(
        (pl.col("amount") * pl.col("fx_rate")).abs().sum().alias("converted"))
    whole = float(totals["converted"].sum()) or 1.0
    return {c: float(v) / whole for c, v in totals.iter_rows()}


def held_elsewhere(reader: FrameReader, days: list[date]) -> list[str | None]:
    """The currencies of the allocated days other than ``days``."""
    return _allocated_currencies(reader, "NOT list_contains($days, day)", {"days": days})


def _allocated_currencies(reader: FrameReader, where: str,
                          params: dict[str, Any]) -> list[str | None]:
    """The distinct ``currency`` of ``allocation``'s rows in ``where`` (sorted, None last),
    read without scanning the history: one row's currency, then the rows whose currency is
    another, which DuckDB answers from each row group's min/max alone when the history holds
    one currency (a year at L: 6 ms against 70-80 ms for a DISTINCT over 24M rows, on every
    daily run)."""
    one = reader.frame(f"SELECT currency FROM allocation WHERE {where} LIMIT 1", params)
    if not one.height:
        return []
    first = one["currency"][0]
    others = reader.frame(f"SELECT DISTINCT currency FROM allocation WHERE {where} "
                          "AND currency IS DISTINCT FROM $first", {**params, "first": first})
    found = {first, *others["currency"].to_list()}
    return sorted(found, key=lambda c: (c is None, c or ""))


def check_allocated(held: list[str | None], currency: str) -> None:
    """The days allocated other than a run's (their currencies: ``held``) must be in
    ``currency`` too: one warehouse, one reporting currency (else every sum across days
    would mix them)."""
    others = [c for c in held if c != currency]
    if others:
        named = ", ".join(sorted(c or "no currency" for c in others))
        raise CurrencyError(
            f"days already allocated are in {named}, and this run would report in {currency}: "
            f"set `reporting_currency: {others[0] or currency}` in finops.yaml, or allocate "
            "every allocated day again in one run with the new reporting currency")


def account_days(reader: FrameReader, start: date, end: date) -> pl.DataFrame:
    """Every (day, billing account) the bill has in the window, with its billing currency;
    an account billed in two currencies on one day is a ``CurrencyError``."""
    found = reader.frame(ACCOUNT_DAYS_SQL, {"start": start, "end": end + timedelta(days=1)})
    days = found.with_columns(pl.date_ranges("first_day", "last_day").alias("day")).explode(
        "day", empty_as_null=True).filter(pl.col("day").is_between(start, end)).select(
        "day", "billing_account_id", "billing_currency").unique()
    mixed = days.group_by("day", "billing_account_id").agg(
        pl.col("billing_currency").sort()).filter(pl.col("billing_currency").list.len() > 1)
    if mixed.height:
        row = mixed.sort("day").row(0, named=True)
        raise CurrencyError(
            f"billing account {row['billing_account_id']!r} is billed in "
            f"{' and '.join(c or 'no currency' for c in row['billing_currency'])} on "
            f"{row['day']}: one account has one billing currency")
    return days


def _bill_rates(days: pl.DataFrame, rates: Rates, by_account: pl.DataFrame,
                currency: str) -> pl.DataFrame:
    """The rate of each billed (day, account) of ``days``: the export's own, else ``rates``."""
    days = days.with_columns(
        pl.col("billing_currency").alias("from_currency"), pl.lit(currency).alias("to_currency"))
    own = by_account.filter(pl.col("to_currency") == currency).select(
        "billing_account_id", "day", "from_currency", pl.col("rate").alias("_own"),
        pl.col("source").alias("_own_source"))
    joined = days.join(own, on=["billing_account_id", "day", "from_currency"], how="left",
                       nulls_equal=True)
    looked = rates.lookup(joined)
    use_own = pl.col("_own").is_not_null() & (pl.col("from_currency") != currency)
    return looked.select(
        "day", "billing_account_id", pl.lit("bill").alias("priced_by"), "billing_currency",
        pl.lit(currency).alias("currency"),
        pl.when(use_own).then(pl.col("_own")).otherwise(pl.col("fx_rate")).alias("fx_rate"),
        pl.when(use_own).then(pl.col("_own_source")).otherwise(pl.col("fx_source"))
        .alias("fx_source"))


def _fail_on_missing(bill: pl.DataFrame, currency: str) -> None:
    missing = bill.filter(pl.col("fx_rate").is_null()).group_by(
        "billing_currency", "billing_account_id", pl.col("day").dt.strftime("%Y-%m")
        .alias("month")).agg(pl.col("day").min().alias("first"), pl.len().alias("days")).sort(
        "billing_currency", "billing_account_id", "month", nulls_last=True)
    if not missing.height:
        return
    lines = [f"  {r['billing_currency']} -> {currency}: billing account "
             f"{r['billing_account_id']!r}, {r['month']} ({r['days']} days from {r['first']})"
             for r in missing.head(20).iter_rows(named=True)]
    raise CurrencyError(
        f"no exchange rate to the reporting currency {currency} for {missing.height} "
        "(currency, billing account, month); nothing was allocated:\n" + "\n".join(lines)
        + "\nadd them to finops.yaml `fx.rates`, or load a CSV of monthly or daily rates "
        "with `finops fx load FILE`")


def estimate_currencies(reader: FrameReader, config: FinOpsConfig) -> dict[str, str]:
    """The currency of each kind of estimate: the price catalog's, and finops.yaml's prices."""
    found = reader.frame("SELECT DISTINCT currency FROM price_catalog WHERE currency IS NOT NULL"
                         )["currency"].sort().to_list()
    if len(found) > 1:
        raise CurrencyError(f"price_catalog holds prices in {', '.join(found)}: fallback "
                            "prices must be in one currency (run `finops pricing sync` again)")
    configured = config.allocation.prices.currency
    return {"catalog": found[0] if found else configured, "configured": configured}


def _estimate_rates(reader: FrameReader, config: FinOpsConfig, rates: Rates, currency: str,
                    window: tuple[date, date]) -> pl.DataFrame:
    days = pl.date_range(window[0], window[1], eager=True).alias("day")
    kinds = pl.DataFrame({"priced_by": list(ESTIMATED),
                          "billing_currency": [estimate_currencies(reader, config)[k]
                                               for k in ESTIMATED]})
    wanted = kinds.join(days.to_frame(), how="cross").with_columns(
        pl.col("billing_currency").alias("from_currency"), pl.lit(currency).alias("to_currency"))
    return rates.lookup(wanted).select(
        "day", pl.lit(None, pl.String).alias("billing_account_id"), "priced_by",
        "billing_currency", pl.lit(currency).alias("currency"), "fx_rate", "fx_source")


def priced_by() -> pl.Expr:
    """``bill`` for rows from the bill, else the estimate's price source."""
    estimated = pl.col("price_source").is_in(ESTIMATED)
    return pl.when(estimated).then(pl.col("price_source")).otherwise(pl.lit("bill"))


def to_reporting(rows: pl.DataFrame, fx: FxPlan) -> pl.DataFrame:
    """Engine rows (amounts as billed) -> ``ALLOCATION`` rows in the reporting currency."""
    keyed = rows.with_columns(priced_by().alias("priced_by"))
    joined = keyed.join(fx.rates.drop("currency"), on=KEYS, how="left", nulls_equal=True)
    missing = joined.filter(pl.col("fx_rate").is_null())
    if missing.height:
        _fail_on_estimate(missing, fx.currency)
    billing = [pl.col(m).alias(f"billing_{m}") for m in MONEY]
    converted = [(pl.col(m) * pl.col("fx_rate")).alias(m) for m in MONEY]
    return joined.with_columns(*billing, *converted, pl.lit(fx.currency).alias("currency")
                               ).select(ALLOCATION.columns).cast(ALLOCATION.schema)


def _fail_on_estimate(missing: pl.DataFrame, currency: str) -> None:
    row = missing.sort("day").row(0, named=True)
    what = (f"estimated prices ({row['priced_by']}, in {row['billing_currency']})"
            if row["priced_by"] != "bill" else f"billing account {row['billing_account_id']!r}")
    raise CurrencyError(
        f"no exchange rate from {row['billing_currency']} to the reporting currency "
        f"{currency} for {what} in {row['day']:%Y-%m}; nothing was allocated: add one to "
        "finops.yaml `fx.rates`, or load a CSV of rates with `finops fx load FILE`")

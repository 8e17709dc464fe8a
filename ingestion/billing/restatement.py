"""Nothing replaced by surprise: what a delivery may do to each billing period it holds,
decided per (source, billing account, billing period) before anything is written.

What the period holds is read from the warehouse: the files of the runs whose lines are
there, each with its checksum (``ingest_files``) and its run's delivery (``ingest_deliveries``).

=================================================  ==========================================
the period holds                                   action
=================================================  ==========================================
nothing                                            ``new``
only files of this delivery (the same bytes)       ``unchanged``: nothing is written
files that are all part of this delivery           ``extended``: replaced by the delivery
an older delivery of the same export               ``restated``: replaced (a newer manifest
                                                   or run of the same export proves it)
anything else                                      refused (``DeliveryConflict``), unless
                                                   ``--replace`` (``replaced``) or ``--append``
                                                   (``appended``: only files not already there)
=================================================  ==========================================

A refusal names the period, the files loaded before and both totals, and what each flag
would make of it. Appending never mixes two currencies in one period.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ingestion.billing.checks import Period, Totals
from ingestion.billing.cost_lines import PARTITION_KEYS
from models.errors import InputError
from models.loads import FrameReader, PartitionChange, Replace, RunDelivery, sql_literal
from models.schemas import COST_LINE

Mode = Literal["auto", "replace", "append"]
REPLACING = ("new", "extended", "restated", "replaced")


class DeliveryConflict(InputError):
    """A delivery would replace a billing period loaded from other files, with no proof
    that it restates them: nothing is loaded until ``--replace`` or ``--append`` says which."""


@dataclass(frozen=True)
class Held:
    """One file's lines of one billing period, loaded (or planned) by a run."""

    run_id: str
    file: str
    sha256: str | None
    totals: Totals
    currency: str | None
    export: str | None = None
    version: str | None = None


State = dict[Period, list[Held]]


@dataclass
class Incoming:
    """What one delivery holds, per billing period and file, before it is loaded."""

    run_id: str
    label: str
    delivery: RunDelivery
    tally: dict[Period, dict[str, Totals]]
    currency: dict[Period, str | None]
    sha256: dict[str, str | None]  # file URI -> checksum (None: not a file, e.g. bq://)

    def held(self, period: Period) -> list[Held]:
        return [Held(self.run_id, file, self.sha256.get(file), totals,
                     self.currency.get(period), self.delivery.export, self.delivery.version)
                for file, totals in sorted(self.tally[period].items())]


@dataclass(frozen=True)
class Decision:
    """What a run does to one billing period: delete its earlier lines or not, and which of
    its files' lines it writes."""

    period: Period
    action: str
    before: list[Held]
    after: list[Held]
    write: tuple[str, ...]

    @property
    def deletes(self) -> bool:
        return self.action in REPLACING

    def change(self, source: str) -> PartitionChange:
        runs = tuple(sorted({h.run_id for h in self.before}))
        was, now = total(self.before), total(self.after)
        currency = next((h.currency for h in self.after + self.before if h.currency), None)
        return PartitionChange(
            source, self.period[0], self.period[1], currency, self.action,
            (was.lines, now.lines), (was.billed, now.billed), (was.effective, now.effective),
            replaced_runs=runs if self.deletes else (), kept_runs=() if self.deletes else runs)


def total(held: Iterable[Held]) -> Totals:
    result = Totals()
    for item in held:
        result = result.add(item.totals)
    return result


# -- what the warehouse holds ---------------------------------------------------------------
LOADED = """
SELECT c.billing_account_id AS account, c.billing_period_start AS period,
       c.x_ingest_run AS run_id, c.x_source_file AS file,
       any_value(c.billing_currency) AS currency, count(*) AS lines,
       sum(c.billed_cost) AS billed, sum(c.effective_cost) AS effective,
       any_value(f.sha256) AS sha256, any_value(d.export) AS export,
       any_value(d.version) AS version
FROM cost_line c
LEFT JOIN ingest_files f ON f.run_id = c.x_ingest_run AND f.file = c.x_source_file
LEFT JOIN ingest_deliveries d ON d.run_id = c.x_ingest_run
WHERE c.x_source = $source AND list_contains($accounts, c.billing_account_id)
  AND list_contains($periods, c.billing_period_start)
GROUP BY ALL ORDER BY ALL
"""


def loaded(reader: FrameReader, source: str, periods: Iterable[Period]) -> State:
    """What the warehouse holds for ``periods`` of ``source``, file by file."""
    wanted = set(periods)
    state: State = {period: [] for period in wanted}
    if not wanted:
        return state
    frame = reader.frame(LOADED, {"source": source,
                                  "accounts": sorted({a for a, _ in wanted}),
                                  "periods": sorted({p for _, p in wanted})})
    for row in frame.iter_rows(named=True):
        period = (row["account"], row["period"])
        if period in wanted:
            state[period].append(Held(
                row["run_id"], row["file"], row["sha256"],
                Totals(row["lines"], row["billed"], row["effective"]), row["currency"],
                row["export"], row["version"]))
    return state


# -- deciding --------------------------------------------------------------------------------
def plan(state: State, incoming: Incoming, mode: Mode) -> tuple[list[Decision], list[str]]:
    """The decision for every period of ``incoming``, and the refusals (messages)."""
    decisions, refusals = [], []
    for period in sorted(incoming.tally):
        before, now = state.get(period, []), incoming.held(period)
        action = _action(before, now, incoming.delivery, mode)
        if action == "appended" and _mixes_currency(before, now):
            refusals.append(_mix_message(period, before, now))
        elif action is None:
            refusals.append(_conflict_message(period, before, now, incoming))
        else:
            decisions.append(_decision(period, action, before, now))
    return decisions, refusals


def advance(state: State, decisions: Iterable[Decision]) -> None:
    """``state`` as it is once ``decisions`` are loaded (for the next delivery of a call)."""
    for decision in decisions:
        state[decision.period] = decision.after


def _action(before: list[Held], now: list[Held], delivery: RunDelivery,
            mode: Mode) -> str | None:
    if not before:
        return "new"
    old, new = {h.sha256 for h in before}, {h.sha256 for h in now}
    known = None not in old and None not in new
    if known and new <= old and (mode != "replace" or new == old):
        return "unchanged"
    if mode != "auto":
        return {"replace": "replaced", "append": "appended"}[mode]
    if known and old <= new:
        return "extended"
    return "restated" if _restates(before, delivery) else None


def _restates(before: list[Held], delivery: RunDelivery) -> bool:
    """A newer delivery of the export every loaded file came from."""
    if delivery.export is None or delivery.version is None:
        return False
    if any(h.export != delivery.export or h.version is None for h in before):
        return False
    return delivery.version > max(h.version or "" for h in before)


def _decision(period: Period, action: str, before: list[Held], now: list[Held]) -> Decision:
    if action == "unchanged":
        return Decision(period, action, before, before, ())
    if action == "appended":
        old = {h.sha256 for h in before}
        added = [h for h in now if h.sha256 is None or h.sha256 not in old]
        return Decision(period, action, before, before + added, tuple(h.file for h in added))
    return Decision(period, action, before, now, tuple(h.file for h in now))


def _mixes_currency(before: list[Held], now: list[Held]) -> bool:
    return len({h.currency for h in before + now}) > 1


# -- loads -----------------------------------------------------------------------------------
def replaces(decisions: list[Decision], rows: str) -> list[Replace]:
    """The ``Replace`` items of a run's decisions over its spooled ``rows`` (a SELECT):
    replaced periods delete their earlier lines, appended ones delete nothing."""
    swap = [d for d in decisions if d.deletes and d.write]
    add = [d for d in decisions if not d.deletes and d.write]
    items = []
    if swap:
        items.append(Replace(COST_LINE, _only(rows, swap), keys=PARTITION_KEYS))
    if add:
        items.append(Replace(COST_LINE, _only(rows, add)))  # where 'false': nothing deleted
    return items


def _only(rows: str, decisions: list[Decision]) -> str:
    clauses = [f"(billing_account_id = {sql_literal(d.period[0])} AND billing_period_start = "
               f"TIMESTAMP {sql_literal(str(d.period[1]))} AND x_source_file IN "
               f"({', '.join(sql_literal(f) for f in d.write)}))" for d in decisions]
    return f"SELECT * FROM ({rows}) WHERE {' OR '.join(clauses)}"


# -- words -----------------------------------------------------------------------------------
def money(totals: Totals, currency: str | None) -> str:
    unit = f" {currency}" if currency else ""
    return (f"{totals.lines} lines, billed {totals.billed:,.2f}{unit}, "
            f"effective {totals.effective:,.2f}{unit}")


def describe(change: PartitionChange) -> str:
    """One period's change as the CLI reports it: lines and totals before -> after."""
    unit = f" {change.billing_currency}" if change.billing_currency else ""
    (l0, l1), (b0, b1), (e0, e1) = change.lines, change.billed, change.effective
    runs = {"replaced": change.replaced_runs, "kept": change.kept_runs}
    said = "; ".join(f"{k} run {', '.join(v)}" for k, v in runs.items() if v)
    return (f"{change.billing_account_id} {change.billing_period_start:%Y-%m}: "
            f"{change.action}: {l0} -> {l1} lines, billed {b0:,.2f} -> {b1:,.2f}{unit}, "
            f"effective {e0:,.2f} -> {e1:,.2f}{unit}" + (f" ({said})" if said else ""))


def period_name(period: Period) -> str:
    return f"billing account {period[0]}, period {period[1]:%Y-%m}"


def _files(held: list[Held]) -> list[str]:
    by_file: dict[tuple[str, str], list[Held]] = {}
    for item in held:
        by_file.setdefault((item.file, item.run_id), []).append(item)
    return [f"    {file} (run {run}): {money(total(items), items[0].currency)}"
            for (file, run), items in sorted(by_file.items())]


def _conflict_message(period: Period, before: list[Held], now: list[Held],
                      incoming: Incoming) -> str:
    currency = now[0].currency if now else None
    appended = total(_decision(period, "appended", before, now).after)
    lines = [f"{period_name(period)} was loaded before from other files "
             f"({_why(before, incoming.delivery)}):",
             *_files(before),
             f"  this delivery ({incoming.label}): {money(total(now), currency)}",
             f"  with --replace the period would hold {money(total(now), currency)}; "
             f"with --append {money(appended, currency)}"]
    return "\n".join(lines)


def _why(before: list[Held], delivery: RunDelivery) -> str:
    if delivery.export is None:
        return "loose files prove nothing about what they restate"
    if all(h.export == delivery.export for h in before):
        return f"this delivery of {delivery.export} is not newer than the one loaded"
    return f"they are not an earlier delivery of {delivery.export}"


def _mix_message(period: Period, before: list[Held], now: list[Held]) -> str:
    currencies = sorted({h.currency or "?" for h in before + now})
    return (f"{period_name(period)}: --append would mix currencies {currencies} in one period; "
            "use --replace if this delivery restates it")


def refusal(source: str, refusals: list[str]) -> DeliveryConflict:
    """One error for every refused period of a call: nothing of the call is loaded."""
    return DeliveryConflict(
        f"{source}: nothing loaded, a delivery would replace what other files loaded:\n"
        + "\n".join(refusals)
        + "\nRun again with --replace if this delivery restates those periods (the files "
        "loaded before are dropped), or with --append if it is another part of the same "
        "delivery (its lines are added; files already loaded are skipped).")

"""What ``finops allocate --changed`` owes: the days changed since their last allocation.

A day is owed when a load marked it changed and no allocation has covered it since
(``finops.changes``), or when it was allocated under another allocation configuration than
today's (``config_fingerprint``: the parts of ``finops.yaml`` the engine reads, and the
Backstage owners it resolves). Days whose raw data retention removed (before ``kept_from``)
are never owed: their allocation stays as it was made.

An allocation's own load (``done``) records each day it allocated with the fingerprint it
used and clears the days' marks, in the same transaction as the rows: a failed allocation
leaves every mark in place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl

from finops.changes import pending_days, scalar, stale_days
from finops.warehouse import CursorReader
from ingestion.ownership.backstage import read_catalog
from models.config import FinOpsConfig
from models.errors import InputError
from models.loads import Replace
from models.schemas import ALLOCATED_DAY, CHANGED_DAY, RETENTION, TABLES_BY_NAME

# finops.yaml sections the engine never reads: changing them re-allocates nothing.
NOT_ALLOCATION = {"budgets", "api_tokens", "sso", "sources", "governance"}
CONFIG = "config"  # the reason of a day allocated under another configuration


def config_fingerprint(config: FinOpsConfig) -> str:
    """sha256 of what the engine reads of the configuration: every section but those in
    ``NOT_ALLOCATION`` (a new section counts until it is listed there), and the owners the
    Backstage catalog declares (its files may change while finops.yaml does not). Values left
    at their defaults do not count, so an upgrade that adds a setting re-allocates nothing
    until the setting is set."""
    relevant = config.model_dump(mode="json", exclude=NOT_ALLOCATION, exclude_defaults=True)
    owners = read_catalog(config.ownership.backstage_catalog).sort(pl.all())
    text = json.dumps(relevant, sort_keys=True) + owners.write_csv()
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Owed:
    """The days to allocate, each with why (the tables that changed it, or ``config``)."""

    reasons: dict[date, list[str]] = field(default_factory=dict)
    kept_from: date | None = None

    @property
    def days(self) -> list[date]:
        return sorted(self.reasons)

    def describe(self) -> str:
        """``3 days changed: 2026-10-30..2026-10-31 (k8s_pod_hour), 2026-10-01 (config)``."""
        if not self.reasons:
            return "nothing changed since the last allocation"
        groups: dict[str, list[date]] = {}
        for day in self.days:
            groups.setdefault(", ".join(self.reasons[day]), []).append(day)
        parts = [f"{spans(days)} ({why})" for why, days in groups.items()]
        return f"{len(self.reasons)} days changed: " + "; ".join(parts)


def owed(reader: CursorReader, config: FinOpsConfig) -> Owed:
    """The days changed since their last allocation, and under another configuration."""
    kept = kept_from(reader)
    found = Owed(pending_days(reader.con, kept), kept)
    for day in stale_days(reader.con, config_fingerprint(config), kept):
        found.reasons.setdefault(day, []).append(CONFIG)
    return found


def kept_from(reader: CursorReader) -> date | None:
    """The first day whose raw data (bill and usage) is still whole: retention removed
    what came before (None: nothing removed)."""
    kept: date | None = scalar(reader.con, f"SELECT max(kept_from) FROM {RETENTION.name} "
                               "WHERE list_contains($raw, table_name)",
                               {"raw": sorted(RAW_TABLES)})
    return kept


def check_kept(days: list[date], kept: date | None) -> None:
    """Allocating a day whose raw data is gone would replace its allocation with less."""
    if kept is not None and days and days[0] < kept:
        raise InputError(f"cannot allocate {days[0]}: retention removed the raw data before "
                         f"{kept} (those days keep the allocation they have)")


def done(days: list[date], run_id: str, fingerprint: str) -> list[Replace]:
    """The allocation's bookkeeping, loaded with its rows: each day allocated with this
    configuration, and the days' changed marks cleared."""
    window = {"days": days}
    allocated = pl.DataFrame({"day": days, "run_id": run_id, "config_fingerprint": fingerprint,
                              "allocated_at": datetime.now()},
                             schema_overrides={"day": pl.Date})
    return [Replace(ALLOCATED_DAY, allocated, "list_contains($days, day)", window),
            Replace(CHANGED_DAY, CHANGED_DAY.empty(), "list_contains($days, day)", window)]


def spans(days: list[date]) -> str:
    """Consecutive days as ranges: ``2026-10-01..2026-10-03, 2026-10-07``."""
    out: list[list[date]] = []
    for day in days:
        if out and (day - out[-1][-1]).days == 1:
            out[-1].append(day)
        else:
            out.append([day])
    return ", ".join(f"{r[0]}..{r[-1]}" if len(r) > 1 else str(r[0]) for r in out)


RAW_TABLES = frozenset(name for name, table in TABLES_BY_NAME.items()
                       if table.days is not None and table.days.kind == "span")

"""``load_deliveries``: bill deliveries into the warehouse, one run each, with nothing
replaced by surprise.

1. Stage: for every delivery of the call, in order, open it (its files made local and
   checked complete, ``ingestion.billing.deliveries``) and stream its cost lines into a
   spool, checked (one currency per account and period) and tallied per billing period and
   file as they go. A failure is recorded as that delivery's failed run.
2. Plan: the whole call against what the warehouse holds (``ingestion.billing.restatement``),
   delivery after delivery (each sees what the ones before it will have loaded). One refused
   period and nothing of the call is loaded; the refused deliveries' runs are recorded failed.
3. Load: each delivery in its own transaction (``Warehouse.load``): its periods replaced,
   appended to or left unchanged, and its run recorded with its delivery, its files (with
   checksums) and what it did to each period (``ingest_deliveries``, ``ingest_files``,
   ``ingest_partitions``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from finops.pipeline.store import Spool
from finops.warehouse import Warehouse
from ingestion.billing.checks import StreamChecks
from ingestion.billing.cost_lines import STREAM_MEMORY, stamp
from ingestion.billing.deliveries import Notify, Open, StagedFile
from ingestion.billing.manifests import Delivery
from ingestion.billing.restatement import (
    Decision,
    DeliveryConflict,
    Incoming,
    Mode,
    advance,
    loaded,
    plan,
    refusal,
    replaces,
)
from models.loads import IngestRun, Load, Replace, RunFile
from models.schemas import COST_LINE


@dataclass
class Staged:
    """A delivery spooled: its run, the SELECT of its lines, what they hold, its files."""

    delivery: Delivery
    run: IngestRun
    rows: str
    checks: StreamChecks
    files: list[StagedFile]
    decisions: list[Decision] = field(default_factory=list)

    def incoming(self) -> Incoming:
        assert self.run.delivery is not None
        sums: dict[str, str | None] = {f.uri: f.sha256 for f in self.files}
        tally = self.checks.tally
        return Incoming(self.run.run_id, self.delivery.label, self.run.delivery, tally,
                        {p: self.checks.currency_of(p) for p in tally}, sums)


@dataclass(frozen=True)
class Outcome:
    """A delivery loaded: its run (with what it did to each period) and its decisions."""

    delivery: Delivery
    run: IngestRun
    decisions: list[Decision]


def load_deliveries(wh: Warehouse, source: str, deliveries: list[Delivery], open_: Open,
                    mode: Mode, workdir: Path, say: Notify) -> list[Outcome]:
    """Stage, plan and load ``deliveries`` of ``source`` (see the module)."""
    with Spool(wh.path) as spool:
        staged = [_stage(wh, spool, source, d, open_, workdir / f"d{i:03d}")
                  for i, d in enumerate(deliveries)]
        _plan(wh, source, staged, mode)
        return [_load(wh, source, item) for item in staged]


def _stage(wh: Warehouse, spool: Spool, source: str, delivery: Delivery, open_: Open,
           workdir: Path) -> Staged:
    uris = [p.uri for p in delivery.parts] or [delivery.label]
    run = IngestRun.begin(source, uris)
    run.delivery = delivery.record()
    run.file_records = [RunFile(uri) for uri in uris]  # what a failure names
    checks = StreamChecks(run)
    with wh.recording(run):
        opened = open_(delivery, workdir)
        run.checksum = opened.checksum
        lines = _stamped(checks(opened.batches), source, run.run_id)
        spooled = spool.replace(Replace(COST_LINE, lines))
    staged = Staged(delivery, run, str(spooled.rows), checks, opened.files)
    run.files = [f.uri for f in opened.files] or uris
    run.file_records = _file_records(staged)
    return staged


def _stamped(batches: Iterator[pl.DataFrame], source: str,
             run_id: str) -> Iterator[pl.DataFrame]:
    for frame in batches:
        yield stamp(frame, source, run_id)


def _file_records(staged: Staged) -> list[RunFile]:
    """The manifest and every data file, with checksum, size and the lines read from it."""
    delivery, rows = staged.delivery, _rows_by_file(staged.checks)
    records = [RunFile(delivery.manifest, "manifest", delivery.manifest_sha)] \
        if delivery.manifest else []
    files = {f.uri: f for f in staged.files}
    for uri in sorted(set(files) | set(rows)):
        known = files.get(uri)
        records.append(RunFile(uri, "data", known.sha256 if known else None,
                               known.bytes if known else None, rows.get(uri)))
    return records


def _rows_by_file(checks: StreamChecks) -> dict[str, int]:
    rows: dict[str, int] = {}
    for files in checks.tally.values():
        for uri, totals in files.items():
            rows[uri] = rows.get(uri, 0) + totals.lines
    return rows


def _plan(wh: Warehouse, source: str, staged: list[Staged], mode: Mode) -> None:
    """Decide every delivery's periods, in order; any refusal stops the whole call."""
    state = loaded(wh, source, {p for item in staged for p in item.checks.tally})
    refused: list[tuple[Staged, list[str]]] = []
    for item in staged:
        decisions, refusals = plan(state, item.incoming(), mode)
        if refusals:
            refused.append((item, refusals))
        item.decisions = decisions
        advance(state, decisions)
    if refused:
        error = refusal(source, [text for _, texts in refused for text in texts])
        for item, _ in refused:
            _record_refused(wh, item.run, error)
        raise error


def _record_refused(wh: Warehouse, run: IngestRun, error: DeliveryConflict) -> None:
    try:
        with wh.recording(run):
            raise error
    except DeliveryConflict:
        pass  # recorded as failed; the caller raises it once for the whole call


def _load(wh: Warehouse, source: str, item: Staged) -> Outcome:
    item.run.partitions = [d.change(source) for d in item.decisions]
    load = Load(item.run, replaces(item.decisions, item.rows), memory_limit=STREAM_MEMORY)
    run = wh.load(load)
    return Outcome(item.delivery, run, item.decisions)

"""``finops ingest focus|azure|gcp-billing|aws-cur``: the bills (``ingestion.billing``).

``focus``, ``azure`` and ``gcp-billing`` load **deliveries**, not files
(``ingestion.billing.deliveries``): below a folder or ``s3://`` prefix they recognise AWS Data
Exports and Azure export manifests (the newest delivery of each export and billing period)
and GCP shard sets; the files given together in one call form one delivery. Each delivery
is staged and checked first (a bad or incomplete one stops the call before anything is
written), then planned against what the warehouse holds (``ingestion.restatement``): a
delivery that would replace a period loaded from other files, with no proof that it
restates them, stops the call with an error naming the period, the files and both totals,
unless ``--replace`` or ``--append`` says which it is. Each delivery is then one run in one
transaction, and the command says what it did to each period. ``aws-cur`` keeps its own
manifest handling (``ingestion.billing.aws_cur``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import typer

from finops.cli.common import (
    boto_client,
    ingest_app,
    note,
    note_plain,
    open_warehouse,
    parse_day,
    progress,
    state,
)
from finops.pipeline.deliveries import Outcome, load_deliveries
from finops.pipeline.store import ingest
from finops.warehouse import Warehouse
from ingestion.billing import aws_cur
from ingestion.billing.deliveries import Open, Opened, ReadBatches, file_opener, find_deliveries
from ingestion.billing.manifests import Delivery, iso_utc
from ingestion.billing.reading import BATCH_ROWS
from ingestion.billing.restatement import Mode, describe
from ingestion.billing.s3 import open_store
from models.errors import FinOpsError, InputError
from models.loads import IngestRun

REPLACE_HELP = ("This delivery restates the billing periods it holds: replace what other "
                "files loaded for them.")
APPEND_HELP = ("This delivery is another part of the bill already loaded: add its lines to "
               "those periods (files already loaded are skipped).")


def load_mode(replace: bool, append: bool) -> Mode:
    if replace and append:
        raise InputError("--replace and --append exclude each other: a delivery either "
                         "restates the periods it holds or adds to them")
    return "replace" if replace else "append" if append else "auto"


def ingest_bills(source: str, sources: list[str], read: ReadBatches, *, label: str,
                 suffixes: tuple[str, ...], mode: Mode, client: Any | None = None,
                 ) -> list[Outcome]:
    """Find the deliveries below ``sources``, then load them (see the module)."""
    with open_warehouse() as warehouse:
        try:
            with warehouse.recording(IngestRun.begin(source, sources)):
                found = find_deliveries(sources, suffixes, label, client)
            for text in found.notes:
                note_plain(text)
            return _load(warehouse, source, found.deliveries, _counted(read), mode)
        except FinOpsError:
            state.publish(warehouse)  # the failed run is visible to readers; data unchanged
            raise


def _load(warehouse: Warehouse, source: str, deliveries: list[Delivery], open_: Open,
          mode: Mode) -> list[Outcome]:
    with tempfile.TemporaryDirectory(prefix=f"finops-{source}-") as work:
        outcomes = load_deliveries(warehouse, source, deliveries, open_, mode, Path(work),
                                   note_plain)
    for outcome in outcomes:
        report(outcome)
    return outcomes


def _counted(read: ReadBatches) -> Open:
    """``read`` with a progress bar over the rows of each file, and a note per file."""
    def counted(path: Path) -> Iterator[pl.DataFrame]:
        rows = 0
        with progress() as bar:
            task = bar.add_task(f"reading {path.name}", total=None)
            for frame in read(path):
                rows += frame.height
                bar.advance(task, frame.height)
                yield frame
        note_plain(f"  {path}: {rows} rows")

    return file_opener(counted, note_plain)


def report(outcome: Outcome) -> None:
    """What a delivery's run did, period by period."""
    run, delivery = outcome.run, outcome.delivery
    note_plain(f"{run.source}: {delivery.kind} delivery {delivery.label}: {run.rows} lines "
               f"written from {len(run.files)} file(s) (run {run.run_id})")
    for change in run.partitions:
        note_plain(f"  {describe(change)}")


# -- focus ----------------------------------------------------------------------------
FOCUS_SUFFIXES = (".csv", ".csv.gz", ".parquet")


@ingest_app.command("focus")
def ingest_focus(
    sources: list[str] = typer.Argument(
        ..., help="FOCUS 1.0-1.3 files (CSV, CSV.gz, Parquet), folders, or s3://bucket/prefix "
        "(AWS Data Exports and Azure export manifests recognised)."),
    billing_account: str | None = typer.Option(
        None, "--billing-account", help="BillingAccountId for files without that column."),
    currency: str | None = typer.Option(
        None, "--currency", help="BillingCurrency for files without that column."),
    provider: str | None = typer.Option(
        None, "--provider", help="ProviderName for files without that column."),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url", help="S3 endpoint."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile for s3:// URIs."),
    replace: bool = typer.Option(False, "--replace", help=REPLACE_HELP),
    append: bool = typer.Option(False, "--append", help=APPEND_HELP),
) -> None:
    """Load FOCUS deliveries; each (billing account, billing period) they hold is loaded,
    restated, appended to or refused (see --replace / --append)."""
    from ingestion.billing.focus import SOURCE, Defaults, read_focus

    mode = load_mode(replace, append)
    defaults = Defaults(billing_account, currency, provider)
    s3 = any(s.startswith("s3://") for s in sources)
    client = boto_client("s3", endpoint_url, profile) if s3 else None
    ingest_bills(SOURCE, sources, lambda p: [read_focus(p, defaults)], label="FOCUS",
                 suffixes=FOCUS_SUFFIXES, mode=mode, client=client)


# -- azure ----------------------------------------------------------------------------
AZURE_SUFFIXES = (".csv", ".csv.gz", ".parquet")


@ingest_app.command("azure")
def ingest_azure(
    paths: list[Path] = typer.Argument(
        ..., help="Azure cost or FocusCost export files, or export folders (manifest.json "
        "runs recognised: the newest run of each export and month)."),
    dataset: str = typer.Option(
        "auto", "--dataset", help="actual | amortized | auto (file name, then content)."),
    billing_account: str | None = typer.Option(
        None, "--billing-account", help="Billing account for exports without one (v1)."),
    currency: str | None = typer.Option(
        None, "--currency", help="Billing currency for exports without one."),
    replace: bool = typer.Option(False, "--replace", help=REPLACE_HELP),
    append: bool = typer.Option(False, "--append", help=APPEND_HELP),
) -> None:
    """Load Azure cost exports (EA, MCA, v1; actual or amortized) and Azure FOCUS exports."""
    from ingestion.billing.azure import SOURCE, Options, read_azure

    if dataset not in ("auto", "actual", "amortized"):
        raise InputError(f"--dataset: {dataset!r} is not actual, amortized or auto")
    mode = load_mode(replace, append)
    options = Options(dataset, billing_account, currency)
    ingest_bills(SOURCE, [str(p) for p in paths], lambda p: [read_azure(p, options)],
                 label="Azure export", suffixes=AZURE_SUFFIXES, mode=mode)


# -- gcp ------------------------------------------------------------------------------
GCP_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz",
                ".parquet", ".csv", ".csv.gz")


@ingest_app.command("gcp-billing")
def ingest_gcp(
    sources: list[str] = typer.Argument(
        ..., help="bq://project.dataset.table, or export files (JSONL, Parquet, CSV) or "
        "folders of them (shard sets such as billing-000000000000.json recognised)."),
    month: str | None = typer.Option(
        None, "--month", help="Invoice month to read from BigQuery (YYYY-MM)."),
    project: str | None = typer.Option(
        None, "--project", help="Project that runs the BigQuery job (default: the table's)."),
    batch_rows: int = typer.Option(
        BATCH_ROWS, "--batch-rows", min=1,
        help="Rows per batch when streaming a Parquet export (memory vs. speed)."),
    replace: bool = typer.Option(False, "--replace", help=REPLACE_HELP),
    append: bool = typer.Option(False, "--append", help=APPEND_HELP),
) -> None:
    """Load the GCP billing export (standard or detailed), from BigQuery or from files."""
    from ingestion.billing.gcp_billing import SOURCE, iter_gcp_file

    mode = load_mode(replace, append)
    tables = [s for s in sources if s.startswith("bq://")]
    if not tables:  # streamed: a multi-million-row Parquet export never sits in memory
        ingest_bills(SOURCE, sources, lambda p: iter_gcp_file(p, batch_rows),
                     label="GCP billing export", suffixes=GCP_SUFFIXES, mode=mode)
        return
    if len(tables) != len(sources):
        raise InputError("give either bq:// tables or files, not both")
    if month is None:
        raise InputError("--month YYYY-MM is required with bq:// (one invoice month per load)")
    from google.cloud import bigquery

    table = tables[0].removeprefix("bq://")
    client = bigquery.Client(project=project or table.split(".")[0])
    ingest_bigquery(client, tables, parse_day(f"{month}-01", "--month"), mode)


def ingest_bigquery(client: object, tables: list[str], month: date,
                    mode: Mode = "auto") -> list[IngestRun]:
    """Load one invoice month of each ``bq://`` table through ``client`` (injected): each
    table is an export, each read a newer delivery of it (it restates the month)."""
    from ingestion.billing.gcp_billing import SOURCE, read_bigquery

    def open_table(delivery: Delivery, _work: Path) -> Opened:
        frame = read_bigquery(client, delivery.label.removeprefix("bq://"), month)
        note_plain(f"  {delivery.label}: {frame.height} rows")
        return Opened([], None, [frame])

    now = iso_utc(datetime.now(UTC))
    deliveries = [Delivery("bigquery", t, now, t, []) for t in tables]
    with open_warehouse() as warehouse:
        try:
            outcomes = _load(warehouse, SOURCE, deliveries, open_table, mode)
        except FinOpsError:
            state.publish(warehouse)
            raise
    return [o.run for o in outcomes]


# -- aws-cur --------------------------------------------------------------------------
@ingest_app.command("aws-cur")
def ingest_aws_cur(
    uri: str = typer.Argument(..., help="s3://bucket/prefix, or a local directory laid out "
                              "like the bucket, or one CUR data file."),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url",
                                            help="S3 endpoint (MinIO, moto)."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile."),
    period: str | None = typer.Option(None, "--period", help="Only this billing period, "
                                      "YYYY-MM."),
) -> None:
    """Load AWS CUR deliveries (legacy and CUR 2.0); each replaces its billing period."""
    client = boto_client("s3", endpoint_url, profile) if uri.startswith("s3://") else None
    store, prefix = open_store(uri, client)
    with open_warehouse() as warehouse, progress() as bar:
        task = bar.add_task("aws-cur", total=None)

        def notify(message: str) -> None:
            bar.update(task, description=message[-70:])
            note(f"  {message}")

        runs = ingest(warehouse, aws_cur.SOURCE, [store.uri(prefix)],
                      lambda work: aws_cur.delivery_loads(store, prefix, work, period=period,
                                                          notify=notify))
    for run in runs:
        start = f"{run.window_start:%Y-%m}" if run.window_start else "?"
        note(f"aws-cur {start}: {run.rows} rows ({run.status}, run {run.run_id})")

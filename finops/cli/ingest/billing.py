"""``finops ingest focus|azure|gcp-billing|aws-cur``: the bills (``ingestion.billing``).

Every ingest reads and checks all files first (a bad file stops the run before anything
is written), then replaces the (source, billing account, billing period) partitions the
files cover in one transaction; the run is recorded in ``ingest_runs`` either way.
``gcp-billing`` files stream instead (``ingest_stream``): Parquet exports in record
batches checked as they are loaded; a bad batch rolls the whole load back, so the
previous data stays just the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import polars as pl
import typer

from finops.cli.common import (
    boto_client,
    ingest_app,
    note,
    open_warehouse,
    parse_day,
    progress,
    state,
)
from finops.pipeline.store import ingest
from finops.warehouse import Warehouse
from ingestion.billing import aws_cur
from ingestion.billing.cost_lines import cost_lines_load, streamed_cost_lines_load
from ingestion.billing.reading import BATCH_ROWS, distinct_files, row_count
from ingestion.billing.s3 import open_store
from models.errors import FinOpsError, InputError
from models.loads import IngestRun, Load

ReadFile = Callable[[Path], pl.DataFrame]
ReadBatches = Callable[[Path], Iterator[pl.DataFrame]]


def read_all(paths: list[Path], read: ReadFile,
             label: str) -> tuple[list[Path], list[pl.DataFrame]]:
    """Read every file (progress per file); duplicates of the same bytes are skipped."""
    files = _distinct(paths)
    frames = []
    with progress() as bar:
        task = bar.add_task(f"reading {label}", total=len(files))
        for path in files:
            frame = read(path)
            frames.append(frame)
            note(f"  {path}: {frame.height} rows")
            bar.advance(task)
    return files, frames


def summarize(warehouse: Warehouse, run: IngestRun) -> None:
    totals = warehouse.frame(
        "SELECT billing_account_id, strftime(billing_period_start, '%Y-%m') AS period, "
        "billing_currency, count(*) AS n, round(sum(billed_cost), 2) AS billed, "
        "round(sum(effective_cost), 2) AS effective FROM cost_line WHERE x_ingest_run = ? "
        "GROUP BY ALL ORDER BY ALL", [run.run_id])
    for row in totals.iter_rows(named=True):
        note(f"  {row['billing_account_id']} {row['period']}: {row['n']} lines, billed "
             f"{row['billed']:,.2f} {row['billing_currency']}, effective {row['effective']:,.2f}")
    note(f"{run.source}: loaded {run.rows} rows from {len(run.files)} file(s) (run {run.run_id})")


def ingest_files(source: str, paths: list[Path], read: ReadFile) -> IngestRun:
    """Read, check and load ``paths`` as one run of ``source``."""
    def collect() -> Load:
        files, frames = read_all(paths, read, source)
        return cost_lines_load(source, frames, files)

    return _ingest(source, paths, collect)


def _ingest(source: str, paths: list[Path] | list[str], collect: Callable[[], Load]) -> IngestRun:
    """``collect`` the files' rows (a failure there is recorded as a failed run), load them as
    one run of ``source``, publish either way."""
    with open_warehouse() as warehouse:
        try:
            [run] = ingest(warehouse, source, paths, lambda _work: [collect()])
        except FinOpsError:
            state.publish(warehouse)  # the failed run is visible to readers; data unchanged
            raise
        summarize(warehouse, run)
    return run


def _distinct(paths: list[Path]) -> list[Path]:
    """The distinct files of ``paths``: the same bytes given twice are read once."""
    files, duplicates = distinct_files(paths)
    for path in duplicates:
        note(f"skipping {path}: same content as another file in this run")
    return files


def stream_files(files: list[Path], batches: ReadBatches, label: str) -> Iterator[pl.DataFrame]:
    """Every file's batches in turn, with a progress bar by rows (Parquet footers give the
    total) and a per-file row count."""
    counts = [row_count(f) for f in files]
    total = None if None in counts else sum(c or 0 for c in counts)
    with progress() as bar:
        task = bar.add_task(f"loading {label}", total=total)
        for path in files:
            rows = 0
            for frame in batches(path):
                rows += frame.height
                bar.advance(task, frame.height)
                yield frame
            note(f"  {path}: {rows} rows")


def ingest_stream(source: str, paths: list[Path], batches: ReadBatches) -> IngestRun:
    """Like ``ingest_files``, but the batches stream into the load: nothing holds a whole
    file. Each batch is checked as it arrives; a bad one rolls the whole load back."""
    def collect() -> Load:
        files = _distinct(paths)
        return streamed_cost_lines_load(source, stream_files(files, batches, source), files)

    return _ingest(source, paths, collect)


# -- focus ----------------------------------------------------------------------------
FOCUS_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def fetch_s3(uri: str, dest: Path, endpoint_url: str | None, profile: str | None) -> list[Path]:
    """Download the FOCUS files under an ``s3://bucket/prefix`` into ``dest``.

    Files keep their bucket and key in the local path, so any error names the object.
    """
    store, prefix = open_store(uri, boto_client("s3", endpoint_url, profile))
    keys = [o.key for o in store.list(prefix) if o.key.lower().endswith(FOCUS_SUFFIXES)]
    if not keys:
        raise InputError(f"{uri}: no FOCUS files (.csv, .csv.gz, .parquet) under this prefix")
    local = []
    for key in sorted(keys):
        target = dest / uri.removeprefix("s3://").split("/", 1)[0] / key
        target.parent.mkdir(parents=True, exist_ok=True)
        local.append(store.download(key, target))
    return local


@ingest_app.command("focus")
def ingest_focus(
    sources: list[str] = typer.Argument(
        ..., help="FOCUS 1.0-1.3 files (CSV, CSV.gz, Parquet), or s3://bucket/prefix."),
    billing_account: str | None = typer.Option(
        None, "--billing-account", help="BillingAccountId for files without that column."),
    currency: str | None = typer.Option(
        None, "--currency", help="BillingCurrency for files without that column."),
    provider: str | None = typer.Option(
        None, "--provider", help="ProviderName for files without that column."),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url", help="S3 endpoint."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile for s3:// URIs."),
) -> None:
    """Load FOCUS files; each (billing account, billing period) they cover is replaced."""
    import tempfile

    from ingestion.billing.focus import SOURCE, Defaults, read_focus

    defaults = Defaults(billing_account, currency, provider)
    with tempfile.TemporaryDirectory(prefix="finops-focus-") as tmp:
        paths: list[Path] = []
        for source in sources:
            if source.startswith("s3://"):
                paths += fetch_s3(source, Path(tmp), endpoint_url, profile)
            else:
                paths.append(Path(source))
        ingest_files(SOURCE, paths, lambda p: read_focus(p, defaults))


# -- azure ----------------------------------------------------------------------------
@ingest_app.command("azure")
def ingest_azure(
    paths: list[Path] = typer.Argument(..., help="Azure cost exports or FocusCost exports."),
    dataset: str = typer.Option(
        "auto", "--dataset", help="actual | amortized | auto (file name, then content)."),
    billing_account: str | None = typer.Option(
        None, "--billing-account", help="Billing account for exports without one (v1)."),
    currency: str | None = typer.Option(
        None, "--currency", help="Billing currency for exports without one."),
) -> None:
    """Load Azure cost exports (EA, MCA, v1; actual or amortized) and Azure FOCUS exports."""
    from ingestion.billing.azure import SOURCE, Options, read_azure

    if dataset not in ("auto", "actual", "amortized"):
        raise InputError(f"--dataset: {dataset!r} is not actual, amortized or auto")
    options = Options(dataset, billing_account, currency)
    ingest_files(SOURCE, paths, lambda p: read_azure(p, options))


# -- gcp ------------------------------------------------------------------------------
@ingest_app.command("gcp-billing")
def ingest_gcp(
    sources: list[str] = typer.Argument(
        ..., help="bq://project.dataset.table, or export files (JSONL, Parquet, CSV)."),
    month: str | None = typer.Option(
        None, "--month", help="Invoice month to read from BigQuery (YYYY-MM)."),
    project: str | None = typer.Option(
        None, "--project", help="Project that runs the BigQuery job (default: the table's)."),
    batch_rows: int = typer.Option(
        BATCH_ROWS, "--batch-rows", min=1,
        help="Rows per batch when streaming a Parquet export (memory vs. speed)."),
) -> None:
    """Load the GCP billing export (standard or detailed), from BigQuery or from files."""
    from ingestion.billing.gcp_billing import SOURCE, iter_gcp_file

    tables = [s for s in sources if s.startswith("bq://")]
    if not tables:  # streamed: a multi-million-row Parquet export never sits in memory
        ingest_stream(SOURCE, [Path(s) for s in sources], lambda p: iter_gcp_file(p, batch_rows))
        return
    if len(tables) != len(sources):
        raise InputError("give either bq:// tables or files, not both")
    if month is None:
        raise InputError("--month YYYY-MM is required with bq:// (one invoice month per load)")
    from google.cloud import bigquery

    table = tables[0].removeprefix("bq://")
    client = bigquery.Client(project=project or table.split(".")[0])
    ingest_bigquery(client, tables, parse_day(f"{month}-01", "--month"))


def ingest_bigquery(client: object, tables: list[str], month: date) -> IngestRun:
    """Load one invoice month of each ``bq://`` table through ``client`` (injected)."""
    from ingestion.billing.gcp_billing import SOURCE, read_bigquery

    def collect() -> Load:
        frames = [read_bigquery(client, t.removeprefix("bq://"), month) for t in tables]
        for table, frame in zip(tables, frames, strict=True):
            note(f"  {table}: {frame.height} rows")
        return cost_lines_load(SOURCE, frames, tables)

    return _ingest(SOURCE, tables, collect)


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

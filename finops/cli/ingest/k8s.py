"""``finops ingest k8s|prometheus|usage``: cluster usage (``ingestion.k8s``)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import typer

from finops.cli.common import ingest_app, note, open_warehouse, progress, state
from finops.pipeline.store import ingest, store
from finops.warehouse import Warehouse
from ingestion.k8s import recorded
from models.errors import ConfigError
from models.loads import IngestRun

# ingestion.k8s.live / ingestion.k8s.prometheus are imported inside their commands: the
# kubernetes client alone takes seconds to import, and every other command would pay for it.

DURATION = re.compile(r"^(\d+)([smhd])$")


def parse_duration(text: str, option: str) -> float:
    """``30s``, ``5m``, ``1h``, ``1d`` -> seconds."""
    match = DURATION.match(text.strip())
    if not match:
        raise ConfigError(f"{option}: {text!r} is not a duration like 30s, 5m, 1h")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def parse_time(text: str, option: str) -> datetime:
    """ISO date/time (``2026-10-01``, ``2026-10-01T05:00Z``) or a unix timestamp -> naive UTC."""
    try:
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), UTC).replace(tzinfo=None)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not an ISO time or unix timestamp") from None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def summarize(wh: Warehouse, run: IngestRun) -> None:
    note(
        f"{run.source}: loaded {run.rows} rows, window {run.window_start} .. {run.window_end} "
        f"(run {run.run_id})"
    )
    for table in recorded.TABLES:
        count = wh.frame(f"SELECT count(*) FROM {table} WHERE x_source = ?", [run.source])
        note(f"  {table}: {count.item()} rows from {run.source}")


@ingest_app.command("k8s")
def ingest_k8s(
    kubeconfig: Path | None = typer.Option(
        None, "--kubeconfig", help="Kubeconfig file (default: in-cluster, else ~/.kube/config)."
    ),
    context: str | None = typer.Option(None, "--context", help="Kubeconfig context."),
    cluster: str = typer.Option("default", "--cluster", help="Cluster name in the warehouse."),
    every: str = typer.Option(
        "5m",
        "--every",
        help="Snapshot interval: each snapshot counts "
        "for this long (and the wait between snapshots with --count).",
    ),
    count: int = typer.Option(1, "--count", min=1, help="Snapshots to take, --every apart."),
) -> None:
    """Snapshot a live cluster through the Kubernetes API into the hourly usage tables."""
    from ingestion.k8s import kube_api
    from ingestion.k8s import live as k8s

    interval = parse_duration(every, "--every")
    api = kube_api.api_client(str(kubeconfig) if kubeconfig else None, context)
    with progress() as bar:
        task = bar.add_task(f"k8s snapshots of {cluster}", total=count)
        for n in range(count):
            if n:
                time.sleep(interval)
            snap = k8s.snapshot(api, cluster, datetime.now(UTC).replace(tzinfo=None))
            with open_warehouse() as wh:
                run = store(wh, k8s.snapshot_load(wh, snap, interval_s=interval))
                note(
                    f"snapshot {snap.taken_at:%Y-%m-%dT%H:%M:%SZ}: "
                    + ", ".join(f"{k} {v.height}" for k, v in snap.samples.items())
                )
            bar.advance(task)
    note(f"kubernetes: {count} snapshot(s) of {cluster} (last run {run.run_id}, {run.rows} rows)")


def _prom_http(
    bearer_token_file: Path | None,
    ca_file: Path | None,
    username: str | None,
    password_file: Path | None,
) -> httpx.Client:
    settings = state.settings.prometheus
    headers, auth = {}, None
    token = (
        bearer_token_file.read_text().strip()
        if bearer_token_file
        else (settings.bearer_token.get_secret_value() if settings.bearer_token else None)
    )
    if token:
        headers["Authorization"] = f"Bearer {token}"
    user = username or settings.username
    if user:
        password = (
            password_file.read_text().strip()
            if password_file
            else (settings.password.get_secret_value() if settings.password else "")
        )
        auth = httpx.BasicAuth(user, password)
    verify: bool | str = str(ca_file or settings.ca_file) if (ca_file or settings.ca_file) else True
    return httpx.Client(headers=headers, auth=auth, verify=verify, timeout=settings.timeout_s)


@ingest_app.command("prometheus")
def ingest_prometheus(
    url: str | None = typer.Option(
        None, "--url", help="Prometheus/Thanos/Mimir base URL (env FINOPS_PROMETHEUS__URL)."
    ),
    start: str = typer.Option(..., "--start", help="Window start (ISO time or unix), UTC."),
    end: str = typer.Option(..., "--end", help="Window end, exclusive."),
    step: str = typer.Option("1h", "--step", help="Row grain; only 1h (the tables are hourly)."),
    resolution: str = typer.Option(
        "5m",
        "--resolution",
        help="Subquery resolution for running time (jobs shorter than the step are still counted).",
    ),
    cluster_label: str | None = typer.Option(
        None, "--cluster-label", help="Series label naming the cluster (default: cluster)."
    ),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        help="Only this cluster; also the name for series without the cluster label.",
    ),
    bearer_token_file: Path | None = typer.Option(None, "--bearer-token-file"),
    ca_file: Path | None = typer.Option(None, "--ca-file", help="CA bundle for TLS."),
    username: str | None = typer.Option(None, "--username", help="Basic-auth user."),
    password_file: Path | None = typer.Option(None, "--password-file"),
) -> None:
    """Load usage history from Prometheus (kube-state-metrics v2 + cAdvisor), hour by hour."""
    from ingestion.k8s import prometheus as prom

    settings = state.settings.prometheus
    base = url or settings.url
    if not base:
        raise ConfigError("--url (or FINOPS_PROMETHEUS__URL) is required")
    if parse_duration(step, "--step") != 3600:
        raise ConfigError("--step: only 1h is supported (k8s_*_hour tables are hourly)")
    t0, t1 = parse_time(start, "--start"), parse_time(end, "--end")
    if t1 <= t0:
        raise ConfigError(f"--end ({end}) must be after --start ({start})")
    options = prom.PromOptions(
        base,
        cluster_label or settings.cluster_label,
        cluster,
        int(parse_duration(resolution, "--resolution")),
    )
    total_days = len(list(prom.days(t0, t1)))
    with (
        _prom_http(bearer_token_file, ca_file, username, password_file) as http,
        open_warehouse() as wh,
        progress() as bar,
    ):
        client = prom.PromClient(http, options)
        task = bar.add_task("prometheus days", total=total_days)
        [run] = ingest(wh, prom.SOURCE, [base], lambda work: [prom.history_load(
            client, t0, t1, work, wh, on_day=lambda _d: bar.advance(task))], start=t0, end=t1)
        note(f"{client.queries} queries over {total_days} day(s)")
        summarize(wh, run)


@ingest_app.command("usage")
def ingest_usage(
    directories: list[Path] = typer.Argument(
        ...,
        help="Recording directories of <table>.parquet files, or directories of such "
        "directories (e.g. usage/ holding day=2026-10-01/ …, taken in name order).",
    ),
) -> None:
    """Load recorded usage (k8s_*_hour / k8s_namespace Parquet files) replacing their window.

    Every file is checked first; then all recordings load in ONE transaction (a bad file
    changes nothing): each cluster's hours between its first and last recorded hour are
    replaced, and its namespace history comes from the last recording that has it. DuckDB
    reads the files itself, so a month of day=* directories loads in one call with bounded
    memory. Columns the tables do not declare are ignored; missing ones load as NULL.
    """
    found = recorded.recordings(directories)
    with open_warehouse() as wh, progress() as bar:
        task = bar.add_task("checking files", total=recorded.file_count(found))
        [run] = ingest(wh, recorded.SOURCE, found, lambda _work: [recorded.usage_load(
            found, on_file=lambda _p: bar.advance(task))])
        summarize(wh, run)


__all__ = ["ingest_k8s", "ingest_prometheus", "ingest_usage"]

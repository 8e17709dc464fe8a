"""``finops run``: one scheduled cycle, what ``deploy/`` runs every hour.

Stages, in order: every source ``finops.yaml`` declares under ``sources:`` (each the ``finops
ingest …`` command it names, in its own process: a source that fails, hangs or runs out of
memory is that stage's failure, not the cycle's), then ``allocate`` (the days changed since
their last allocation), ``budgets`` (evaluate, queue, and send when ``FINOPS_SLACK__TOKEN``
is set), ``retention``, and ``publish`` (one snapshot for readers, at the end: the stages
write with ``--no-publish``). A failed stage is reported and the cycle goes on; the exit
code is 1 when any failed. A cycle holds ``<db>.cycle.lock`` (``CycleLock``) so two never
overlap; each stage takes the writer lock as any command does. One line per stage on stdout:
name, status, rows, seconds, detail.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb

from finops import retention
from finops.alerts import check as checking
from finops.cli.allocate import allocate
from finops.cli.common import app, note_plain, open_warehouse, out, state
from finops.cli.ingest.k8s import parse_duration
from finops.cli.retention import describe_space
from finops.pipeline.incremental import config_fingerprint, spans
from finops.warehouse_lock import CycleLock
from models.config import AwsCurSource, FinOpsConfig, Sources
from models.errors import FinOpsError

BILL_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz", ".json")


@dataclass
class Stage:
    name: str
    status: str = "ok"  # ok | failed | skipped
    rows: int | None = None
    seconds: float = 0.0
    detail: str = ""

    def line(self) -> str:
        rows = "-" if self.rows is None else f"{self.rows:,}"
        return (f"{self.name:<26} {self.status:<7} {rows:>12} {self.seconds:>8.1f}s  "
                f"{self.detail}").rstrip()


@app.command("run")
def run_command() -> None:
    """One scheduled cycle: ingest, allocate what changed, budgets, retention, publish."""
    config = state.finops_config()
    began = time.monotonic()
    with CycleLock(state.settings.db, command=state.command):
        out.print(f"{'stage':<26} {'status':<7} {'rows':>12} {'seconds':>9}  detail",
                  highlight=False)
        stages = [report(stage) for stage in cycle(config)]
    failed = [s.name for s in stages if s.status == "failed"]
    total = Stage("cycle", "failed" if failed else "ok", None, time.monotonic() - began,
                  f"{len(failed)} of {len(stages)} stages failed" if failed else
                  f"{len(stages)} stages")
    report(total)
    if failed:
        raise FinOpsError(f"finops run: {len(failed)} of {len(stages)} stages failed: "
                          + ", ".join(failed))


def cycle(config: FinOpsConfig) -> list[Stage]:
    """Every stage, in order; each runs whatever happened to the ones before."""
    stages = [ingest(name, args) for name, args in source_commands(config.sources,
                                                                    datetime.now(UTC))]
    stages.append(timed("allocate", lambda: allocate_stage(config)))
    stages.append(timed("budgets", lambda: budgets_stage(config)))
    stages.append(timed("retention", lambda: retention_stage(config)))
    stages.append(timed("publish", publish_stage))
    return stages


def report(stage: Stage) -> Stage:
    out.print(stage.line(), highlight=False, markup=False)
    return stage


def timed(name: str, work: Callable[[], tuple[int | None, str]]) -> Stage:
    """Run an in-process stage; a failure becomes the stage's status and detail."""
    began = time.monotonic()
    try:
        rows, detail = work()
        status = "ok"
    except Exception as exc:  # noqa: BLE001 — a stage's failure is reported, the cycle goes on
        rows, status = None, "failed"
        detail = str(exc) if isinstance(exc, FinOpsError) else f"{type(exc).__name__}: {exc}"
    return Stage(name, status, rows, time.monotonic() - began, detail)


# -- sources ----------------------------------------------------------------------------
def source_commands(sources: Sources, now: datetime) -> list[tuple[str, list[str]]]:
    """Each declared source as the ``finops ingest …`` arguments that load it."""
    found: list[tuple[str, list[str]]] = []
    for entry in sources.aws_cur:
        cur = entry if isinstance(entry, AwsCurSource) else AwsCurSource(uri=entry)
        found.append(("ingest aws-cur", ["ingest", "aws-cur", cur.uri,
                      *_opt("--endpoint-url", cur.endpoint_url), *_opt("--profile", cur.profile)]))
    tables = [s for s in sources.gcp_billing if s.startswith("bq://")]
    files = [s for s in sources.gcp_billing if not s.startswith("bq://")]
    found += [("ingest gcp-billing", ["ingest", "gcp-billing", t, "--month", f"{now:%Y-%m}"])
              for t in tables]
    for kind, paths in (("gcp-billing", files), ("azure", sources.azure),
                        ("focus", sources.focus)):
        if paths:  # no files in the directories yet: the stage is skipped
            given = expand(paths)
            found.append((f"ingest {kind}", ["ingest", kind, *given] if given else []))
    if sources.prometheus is not None:
        found.append(("ingest prometheus", prometheus_args(sources, now)))
    for k8s in sources.kubernetes:
        found.append((f"ingest k8s {k8s.cluster}", [
            "ingest", "k8s", "--cluster", k8s.cluster, "--every", k8s.every,
            *_opt("--context", k8s.context), *_opt("--kubeconfig", k8s.kubeconfig)]))
    if sources.usage:
        found.append(("ingest usage", ["ingest", "usage", *sources.usage]))
    return found


def prometheus_args(sources: Sources, now: datetime) -> list[str]:
    """The ``lookback`` complete hours before ``now``."""
    prom = sources.prometheus
    assert prom is not None
    end = now.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    start = end - timedelta(seconds=parse_duration(prom.lookback, "sources.prometheus.lookback"))
    return ["ingest", "prometheus", "--start", f"{start:%Y-%m-%dT%H:%M}Z",
            "--end", f"{end:%Y-%m-%dT%H:%M}Z", *_opt("--url", prom.url),
            *_opt("--cluster", prom.cluster), *_opt("--cluster-label", prom.cluster_label)]


def expand(paths: list[str]) -> list[str]:
    """Directories as the bill files in them (name order); anything else as given (a missing
    file is the command's error to report, an s3:// prefix its to list)."""
    found: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found += sorted(str(p) for p in path.rglob("*")
                            if p.is_file() and p.name.lower().endswith(BILL_SUFFIXES))
        else:
            found.append(text)
    return found


def _opt(flag: str, value: object) -> list[str]:
    return [flag, str(value)] if value is not None else []


def ingest(name: str, args: list[str]) -> Stage:
    """Run one source's command in its own process, its output passed on to stderr; the
    stage's rows are those its runs recorded in ``ingest_runs``."""
    if not args:
        return Stage(name, "skipped", detail="no files yet")
    since = _warehouse_now()
    began = time.monotonic()
    code, last_error = _child(args, state.settings.run.source_timeout_s)
    rows, runs = _recorded(since)
    status = "ok" if code == 0 else "failed"
    detail = f"{runs} run(s) recorded" if code == 0 else (last_error or f"exit code {code}")
    return Stage(name, status, rows, time.monotonic() - began, detail)


def _child(args: list[str], timeout_s: float) -> tuple[int, str]:
    """``finops --no-publish ARGS`` as a child process: its exit code and last error line."""
    settings = state.settings
    argv = [sys.executable, "-m", "finops", "--db", str(settings.db), "--no-publish"]
    source = settings.config_source()
    argv += ["--config", str(source.path)] if source.path is not None else []
    argv += ["--debug"] if state.debug else []
    child = subprocess.Popen([*argv, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, bufsize=1)
    errors: list[str] = []
    relay = threading.Thread(target=_relay, args=(child, errors), daemon=True)
    relay.start()
    try:
        code = child.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        errors.append(f"Error: timed out after {timeout_s:g}s (FINOPS_RUN__SOURCE_TIMEOUT_S)")
        code = -9
    relay.join(timeout=5)
    return code, errors[-1].removeprefix("Error: ") if errors else ""


def _relay(child: subprocess.Popen[str], errors: list[str]) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        note_plain("  | " + line.rstrip())
        if line.startswith("Error: "):
            errors.append(line.strip())


def _warehouse_now() -> datetime:
    """Now, as DuckDB writes it into ``ingest_runs.started_at`` (session time zone)."""
    with duckdb.connect() as con:
        [(now,)] = con.execute("SELECT now()::TIMESTAMP").fetchall()
    return now - timedelta(seconds=1)


def _recorded(since: datetime) -> tuple[int, int]:
    """Rows and runs the warehouse recorded as ok since ``since``."""
    with open_warehouse(publish=False) as wh:
        rows, runs = wh.frame(
            "SELECT coalesce(sum(rows) FILTER (WHERE status = 'ok'), 0) AS rows, "
            "count(*) AS runs FROM ingest_runs WHERE started_at >= $since",
            {"since": since}).row(0)
    return int(rows), int(runs)


# -- the stages after the sources -------------------------------------------------------
def allocate_stage(config: FinOpsConfig) -> tuple[int | None, str]:
    with open_warehouse(publish=False) as wh:
        summary = allocate(wh, config, None)
    if summary is None:
        return 0, "nothing changed"
    return summary.rows, f"{len(summary.days)} day(s) ({spans(summary.days)}), reconciled"


def budgets_stage(config: FinOpsConfig) -> tuple[int | None, str]:
    """``finops budgets check``, sent when Slack has a token (a dry run otherwise)."""
    settings = state.settings
    send = settings.slack.token is not None
    result = checking.check(partial(open_warehouse, publish=False), config, settings, send=send)
    budgets = len(result.planned.statuses)
    report = result.report
    if report is None:
        return budgets, (f"{len(result.planned.new)} new message(s), {len(result.pending)} "
                         "pending, not sent (no FINOPS_SLACK__TOKEN)")
    if report.failed or report.dead:
        failed = [*report.failed, *report.dead]
        raise FinOpsError(f"{len(report.sent)} sent, {len(failed)} not delivered: "
                          f"{failed[0][1]}")
    return budgets, f"{len(report.sent)} message(s) sent"


def retention_stage(config: FinOpsConfig) -> tuple[int | None, str]:
    with open_warehouse(publish=False) as wh:
        with wh.reader() as reader:
            plan = retention.plan(reader, state.settings.retention, config_fingerprint(config))
        if not plan.rows:
            return 0, "nothing past its months"
        done = retention.apply(wh, plan)
    return plan.rows, describe_space(done)


def publish_stage() -> tuple[int | None, str]:
    if not state.publishing:
        return None, "not published (--no-publish)"
    with open_warehouse(publish=False) as wh:
        path = wh.publish()
    return None, (f"{path} ({path.stat().st_size / 1e6:,.1f} MB; "
                  f"snapshot: {wh.snapshot_made})")

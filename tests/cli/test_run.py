"""``finops run``: one cycle, a line per stage, a failing source reported while the rest run,
never two cycles at once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from finops.cli.run import source_commands
from finops.demo import DEMO_CONFIG
from finops.warehouse_lock import CycleLock
from models.config import Sources
from tests.support import run_finops
from tests.support.history import record
from tests.support.snapshots import SNAPSHOT_MADE


def config_with(tmp_path: Path, sources: dict[str, object]) -> Path:
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    path = tmp_path / "finops.yaml"
    path.write_text(yaml.safe_dump({**config, "sources": sources}))
    return path


def stages(stdout: str) -> dict[str, list[str]]:
    """Each summary line by stage name: its status, rows and seconds."""
    found = {}
    for line in stdout.splitlines()[1:]:
        name, rest = line[:26].strip(), line[26:].split()
        found[name] = rest
    return found


@pytest.mark.integration
@pytest.mark.slow
def test_a_cycle_reports_each_stage_and_a_failing_source_does_not_stop_it(
        tmp_path: Path) -> None:
    db = tmp_path / "finops.duckdb"
    day1 = record(tmp_path / "usage" / "day=2024-10-01", date(2024, 10, 1))
    day2 = tmp_path / "usage" / "day=2024-10-02"
    broken = config_with(tmp_path, {"usage": [str(day1)], "azure": [str(tmp_path / "none")]})
    first = run_finops(["--db", str(db), "--config", str(broken), "run"], timeout_s=600)
    assert first.returncode == 1, first.stderr
    lines = stages(first.stdout)
    assert list(lines) == ["ingest azure", "ingest usage", "allocate", "budgets", "retention",
                           "publish", "cycle"]
    assert lines["ingest azure"][0] == "failed" and f"{tmp_path / 'none'}" in first.stdout
    assert lines["ingest usage"][:2] == ["ok", "72"]  # 24 node-hours, 48 pod-hours
    assert lines["allocate"][0] == "ok" and int(lines["allocate"][1]) > 0
    assert "1 day(s) (2024-10-01), reconciled" in first.stdout
    assert lines["publish"][0] == "ok" and db.with_name("finops.published.duckdb").exists()
    assert re.search(rf"finops\.published\.duckdb \([\d,.]+ MB; snapshot: ({SNAPSHOT_MADE})\)",
                     first.stdout), first.stdout
    assert "Error: finops run: 1 of 6 stages failed: ingest azure" in first.stderr
    # The next cycle: a new day arrives and only it is allocated; then nothing is new.
    record(day2, date(2024, 10, 2))
    fixed = config_with(tmp_path, {"usage": [str(day1.parent)]})
    second = run_finops(["--db", str(db), "--config", str(fixed), "run"], timeout_s=600)
    assert second.returncode == 0, second.stderr
    assert stages(second.stdout)["allocate"][:2] == lines["allocate"][:2]  # the same usage
    assert "1 day(s) (2024-10-02), reconciled" in second.stdout
    third = run_finops(["--db", str(db), "--config", str(fixed), "run"], timeout_s=600)
    assert third.returncode == 0, third.stderr
    assert stages(third.stdout)["allocate"][:2] == ["ok", "0"]
    assert "nothing changed" in third.stdout


@pytest.mark.integration
def test_a_second_cycle_does_not_start_while_one_runs(tmp_path: Path) -> None:
    db = tmp_path / "finops.duckdb"
    config = config_with(tmp_path, {})
    with CycleLock(db, command="finops run (the first cycle)"):
        second = run_finops(["--db", str(db), "--config", str(config), "run"])
    assert second.returncode == 1
    assert "another cycle of" in second.stderr and "finops run (the first cycle)" in second.stderr
    assert "this cycle did not start" in second.stderr and "allocate" not in second.stdout


def test_each_source_is_the_ingest_command_it_names(tmp_path: Path) -> None:
    bills = tmp_path / "exports"
    (bills / "2026-10").mkdir(parents=True)
    for name in ("b.csv", "a.csv.gz", "notes.txt"):
        (bills / "2026-10" / name).write_text("x")
    (tmp_path / "empty").mkdir()
    sources = Sources.model_validate({
        "aws_cur": ["s3://cur/prefix", {"uri": "s3://other", "profile": "billing"}],
        "gcp_billing": ["bq://p.d.t"], "azure": [str(bills)], "focus": [str(tmp_path / "empty")],
        "prometheus": {"url": "http://prom:9090", "lookback": "6h"},
        "kubernetes": [{"cluster": "prod", "context": "ctx"}], "usage": ["/rec"]})
    now = datetime(2026, 11, 2, 10, 42, tzinfo=UTC)
    found = source_commands(sources, now)
    assert found == [
        ("ingest aws-cur", ["ingest", "aws-cur", "s3://cur/prefix"]),
        ("ingest aws-cur", ["ingest", "aws-cur", "s3://other", "--profile", "billing"]),
        ("ingest gcp-billing", ["ingest", "gcp-billing", "bq://p.d.t", "--month", "2026-11"]),
        ("ingest azure", ["ingest", "azure", str(bills / "2026-10" / "a.csv.gz"),
                          str(bills / "2026-10" / "b.csv")]),
        ("ingest focus", []),  # no files yet: skipped
        ("ingest prometheus", ["ingest", "prometheus", "--start", "2026-11-02T04:00Z",
                               "--end", "2026-11-02T10:00Z", "--url", "http://prom:9090"]),
        ("ingest k8s prod", ["ingest", "k8s", "--cluster", "prod", "--every", "1h",
                             "--context", "ctx"]),
        ("ingest usage", ["ingest", "usage", "/rec"])]


def test_a_bad_sources_section_names_the_key(tmp_path: Path) -> None:
    from models.config import load_config
    from models.errors import ConfigError

    path = tmp_path / "finops.yaml"
    path.write_text("sources:\n  prometheus: {lookback: three hours}\n")
    with pytest.raises(ConfigError, match="sources.prometheus.lookback"):
        load_config(path)

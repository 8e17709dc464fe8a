"""The Prometheus collector against a real Prometheus holding ``k8s_scenario``'s history.

Expected values are computed by hand from the scenario (see its docstring). CPU usage comes
from ``increase()``, which extrapolates like Prometheus does: within 1.1 x the scrape
interval of a window edge it extrapolates to the edge, otherwise by half an interval, and
never below the counter's zero (the start is clamped to ``sampled x first / delta``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import polars as pl
import pytest

from finops.pipeline.store import ingest as ingest_loads
from finops.warehouse import Warehouse
from ingestion.k8s import prometheus as prom
from models.errors import CollectorError
from models.loads import IngestRun
from tests.support.k8s_scenario import GIB, MIB

START, END = datetime(2026, 10, 1), datetime(2026, 10, 2, 2)
H0, H1 = datetime(2026, 10, 1, 0), datetime(2026, 10, 1, 1)


def ingest(wh: Warehouse, prom_client: prom.PromClient, start: datetime,
           end: datetime) -> IngestRun:
    """Load Prometheus history as ``finops ingest prometheus`` does."""
    [run] = ingest_loads(wh, prom.SOURCE, [prom_client.options.url],
                         lambda work: [prom.history_load(prom_client, start, end, work, wh)],
                         start=start, end=end)
    return run


def client(url: str, **kw: object) -> prom.PromClient:
    options = prom.PromOptions(url=url, retries=1, backoff_s=0.01, **kw)  # type: ignore[arg-type]
    return prom.PromClient(httpx.Client(timeout=10), options)


@pytest.fixture(scope="module")
def loaded(prometheus_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    with Warehouse(tmp_path_factory.mktemp("wh") / "w.duckdb") as wh:
        run = ingest(wh, client(prometheus_url), START, END)
        assert run.status == "ok"
        yield wh


def as_dict(entries: object) -> dict[str, str]:
    """A MAP read back through Polars (list of key/value structs) as a dict."""
    return {e["key"]: e["value"] for e in entries}  # type: ignore[attr-defined]


def pod(wh: Warehouse, uid: str, hour: datetime) -> dict[str, object]:
    rows = wh.frame(
        "SELECT * FROM k8s_pod_hour WHERE pod_uid = $u AND hour = $h", {"u": uid, "h": hour}
    ).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.integration
def test_init_containers_duplicate_replicas_and_counter_reset(loaded: Warehouse) -> None:
    api = pod(loaded, "u-api", H0)
    assert api["running_seconds"] == 3600  # not 7200: two KSM replicas are one
    assert api["cpu_request"] == 1.0  # max(init 1.0, app 0.5)
    assert api["memory_request"] == 512 * MIB  # max(init 128Mi, app 512Mi)
    # 0.25 cores with a counter reset at 00:30; full coverage -> extrapolated to the hour
    assert api["cpu_usage"] == pytest.approx(0.25)
    assert api["memory_usage"] == 200 * MIB  # the container="" cgroup series is excluded
    assert (api["workload_kind"], api["workload_name"]) == ("Deployment", "api")
    assert as_dict(api["workload_labels"]) == {"team": "alpha-deploy"}
    assert as_dict(api["labels"]) == {"app": "api"}
    assert api["node"] == "n1"


@pytest.mark.integration
def test_job_shorter_than_step_without_requests(loaded: Warehouse) -> None:
    job = pod(loaded, "u-job", H0)
    assert job["running_seconds"] == 1200  # 00:10-00:30 at 5m resolution in a 1h step
    assert (job["cpu_request"], job["memory_request"]) == (0.0, 0.0)
    # 20 samples 120..2400: delta 2280 over 1140 s; start clamp 60 s, end +30 s
    assert job["cpu_usage"] == pytest.approx(2280 * (1140 + 60 + 30) / 1140 / 1200)
    assert job["memory_usage"] == 100 * MIB
    assert (job["workload_kind"], job["workload_name"]) == ("CronJob", "report")
    assert as_dict(job["workload_labels"]) == {"team": "reporting"}
    assert loaded.frame(
        "SELECT * FROM k8s_pod_hour WHERE pod_uid = 'u-job' AND hour > $h", {"h": H0}
    ).is_empty()


@pytest.mark.integration
def test_pod_moving_nodes_mid_hour(loaded: Warehouse) -> None:
    a, b = pod(loaded, "u-db-a", H0), pod(loaded, "u-db-b", H0)
    assert (a["node"], a["running_seconds"]) == ("n2", 1800)
    assert (b["node"], b["running_seconds"]) == ("n1", 1800)
    assert a["memory_usage"] == 100 * MIB and b["memory_usage"] == 300 * MIB
    # n2 series: delta 174 over 1740 s, +1 s to the start, +30 s at the end
    assert a["cpu_usage"] == pytest.approx(174 * (1740 + 1 + 30) / 1740 / 1800)
    # n1 series: delta 348 over 1740 s, +30 s at the start, +59 s to the end
    assert b["cpu_usage"] == pytest.approx(348 * (1740 + 30 + 59) / 1740 / 1800)
    assert pod(loaded, "u-db-b", H1)["running_seconds"] == 3600
    assert a["cpu_request"] == 0.25 and a["memory_request"] == GIB


@pytest.mark.integration
def test_nodes_leaving_and_appearing_mid_hour(loaded: Warehouse) -> None:
    nodes = loaded.frame(
        "SELECT * FROM k8s_node_hour WHERE hour = $h AND cluster = 'prod' ORDER BY node", {"h": H0}
    )
    assert nodes["node"].to_list() == ["n1", "n2", "n3"]
    assert nodes["running_seconds"].to_list() == [3600, 1800, 1200]
    n1 = nodes.row(0, named=True)
    assert n1["capacity_cpu"] == 4 and n1["allocatable_cpu"] == pytest.approx(3.9)
    assert n1["capacity_memory"] == 16 * GIB
    assert (n1["instance_type"], n1["zone"], n1["region"]) == (
        "m5.xlarge",
        "us-east-1a",
        "us-east-1",
    )
    assert n1["spot"] is True and nodes["spot"].to_list()[1:] == [False, False]
    assert n1["provider_id"] == "aws:///us-east-1a/i-0aaa"
    later = loaded.frame(
        "SELECT node FROM k8s_node_hour WHERE hour = $h AND cluster = 'prod' ORDER BY node",
        {"h": H1},
    )
    assert later["node"].to_list() == ["n1", "n3"]


@pytest.mark.integration
def test_namespace_label_history(loaded: Warehouse) -> None:
    ns = loaded.frame(
        "SELECT namespace, valid_from, valid_to, labels['team'] AS team "
        "FROM k8s_namespace WHERE cluster = 'prod' ORDER BY namespace, valid_from"
    )
    assert ns.rows() == [
        ("data", H0, None, "data"),
        ("shop", H0, datetime(2026, 10, 1, 12), "alpha"),
        ("shop", datetime(2026, 10, 1, 12), None, "beta"),
        ("temp", H0, datetime(2026, 10, 1, 2), "gamma"),  # deleted at 02:00
    ]


@pytest.mark.integration
def test_quota_volume_lb_and_second_cluster(loaded: Warehouse) -> None:
    quota = loaded.frame("SELECT hard, used FROM k8s_quota_hour WHERE hour = $h", {"h": H0})
    assert quota.rows() == [(4.0, 1.5)]  # max over replicas, not their sum
    vol = loaded.frame("SELECT * FROM k8s_volume_hour WHERE hour = $h", {"h": H0}).row(
        0, named=True
    )
    assert (vol["claim"], vol["namespace"], vol["volume_id"]) == ("data-db-0", "data", "vol-0abc")
    assert vol["size_bytes"] == 10 * GIB and vol["mounting_pods"] == ["db-0"]
    lb = loaded.frame("SELECT * FROM k8s_lb_hour").to_dicts()
    assert [(r["service"], r["hour"], r["running_seconds"], r["ingress"]) for r in lb] == [
        ("web", H0, 2700, "web-1.elb.amazonaws.com")
    ]
    assert as_dict(lb[0]["labels"]) == {"team": "alpha"}
    dev = loaded.frame(
        "SELECT count(*) AS n, sum(cpu_request) AS cpu FROM k8s_pod_hour WHERE cluster = 'dev'"
    ).row(0)
    assert dev[0] == 26 and dev[1] == pytest.approx(0.1 * 26)


@pytest.mark.integration
def test_day_chunks_cover_the_window(loaded: Warehouse) -> None:
    hours = loaded.frame(
        "SELECT count(DISTINCT hour) AS n, min(hour) AS a, max(hour) AS b "
        "FROM k8s_pod_hour WHERE pod_uid = 'u-api'"
    ).row(0)
    assert hours == (26, START, datetime(2026, 10, 2, 1))


@pytest.mark.integration
def test_one_cluster_and_reingest_replaces(prometheus_url: str, tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb") as wh:
        only_dev = client(prometheus_url, cluster="dev")
        ingest(wh, only_dev, START, END)
        ingest(wh, only_dev, START, END)
        counts = wh.frame("SELECT cluster, count(*) AS n FROM k8s_pod_hour GROUP BY cluster")
        assert counts.rows() == [("dev", 26)]


@pytest.mark.integration
def test_promql_error_names_the_query(prometheus_url: str) -> None:
    with pytest.raises(CollectorError, match=r"prometheus \(query: sum\(\).*parse error"):
        client(prometheus_url).range("sum(", START, END)


@pytest.mark.integration
@pytest.mark.parametrize(
    "mode, message",
    [
        ("401", "HTTP 401 unauthorized"),
        ("403", "HTTP 403 forbidden"),
        ("malformed", "malformed JSON"),
        ("500", "HTTP 500"),
    ],
)
def test_bad_answers(bad_prometheus: tuple[object, str], mode: str, message: str) -> None:
    state, url = bad_prometheus
    state.mode = mode  # type: ignore[attr-defined]
    with pytest.raises(CollectorError, match=message) as info:
        client(url).range("up", START, END)
    assert info.value.query == "up"


@pytest.mark.integration
def test_timeout_and_unreachable(bad_prometheus: tuple[object, str]) -> None:
    state, url = bad_prometheus
    state.mode = "slow"  # type: ignore[attr-defined]
    slow = prom.PromClient(httpx.Client(timeout=0.2), prom.PromOptions(url, retries=1, backoff_s=0))
    with pytest.raises(CollectorError, match="ReadTimeout"):
        slow.range("up", START, END)
    assert state.hits == 2  # type: ignore[attr-defined]  # retried once
    with pytest.raises(CollectorError, match="ConnectError"):
        client("http://127.0.0.1:9").range("up", START, END)


@pytest.mark.integration
def test_failures_leave_previous_rows(
    prometheus_url: str, bad_prometheus: tuple[object, str], tmp_path: Path
) -> None:
    state, url = bad_prometheus
    with Warehouse(tmp_path / "w.duckdb") as wh:
        ingest(wh, client(prometheus_url), START, datetime(2026, 10, 1, 2))
        before = wh.frame("SELECT * FROM k8s_pod_hour ORDER BY ALL")
        with pytest.raises(CollectorError, match="no kube-state-metrics node series"):
            ingest(wh, client(prometheus_url), datetime(2025, 1, 1), datetime(2025, 1, 2))
        state.mode = "malformed"  # type: ignore[attr-defined]
        with pytest.raises(CollectorError):
            ingest(wh, client(url), START, datetime(2026, 10, 1, 2))
        assert wh.frame("SELECT * FROM k8s_pod_hour ORDER BY ALL").equals(before)
        runs = wh.frame("SELECT status FROM ingest_runs ORDER BY started_at")
        assert runs["status"].to_list().count("failed") == 2


def test_to_frame_hours() -> None:
    result = [{"metric": {"cluster": "c", "pod": "p"}, "values": [[1790816399, "2"]]}]
    frame = prom.to_frame(result, "cluster", "default")
    assert frame.select("cluster", "hour", "value").rows() == [("c", H0, 2.0)]
    assert isinstance(frame, pl.DataFrame)

"""Real servers for the Kubernetes collector tests.

- ``prometheus_url``: a real Prometheus (``tests.support.prometheus``) on a free loopback
  port, TSDB backfilled once per session by promtool from ``tests.support.k8s_scenario``'s
  OpenMetrics; a 30 s lookback stands in for the staleness markers a live scrape writes.
- ``bad_prometheus``: an HTTP stand-in that answers every query the same bad way.
- ``fake_apiserver``: the stand-in Kubernetes API server (``tests.support.kube_api``) and a
  kubeconfig pointing at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import kube_api
from tests.support import prometheus as prom
from tests.support.k8s_scenario import openmetrics


@pytest.fixture(scope="session")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("prometheus")
    prom.require_tools()
    source = root / "series.om"
    with source.open("w") as handle:
        handle.writelines(openmetrics())
    prom.backfill(source, root / "tsdb")
    with prom.prometheus(root, root / "tsdb", lookback="30s") as server:
        yield server.url


@pytest.fixture
def bad_prometheus() -> Iterator[tuple[prom.BadPrometheus, str]]:
    with prom.bad_prometheus() as served:
        yield served


@pytest.fixture
def fake_apiserver(tmp_path: Path) -> Iterator[tuple[kube_api.FakeApi, Path]]:
    """(the fake API, a kubeconfig file pointing at it)."""
    with kube_api.fake_apiserver(tmp_path) as served:
        yield served

"""Fixtures: a real HTTP stand-in for Slack's Web API, a real DuckDB warehouse with allocation
rows, and settings/config pointing at both.

The spend data is generated in ``budget_data.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from budget_data import CONFIG, allocation_rows, load_allocation
from slack_stub import SlackStub, handler

from finops.settings import Settings
from finops.warehouse import Warehouse
from models.config import FinOpsConfig, parse_config


@pytest.fixture
def config() -> FinOpsConfig:
    return parse_config(CONFIG)


@pytest.fixture
def budget_wh(tmp_path: Path) -> Iterator[Warehouse]:
    """A real DuckDB file with October 1-20 allocated, published."""
    with Warehouse(tmp_path / "finops.duckdb") as wh:
        load_allocation(wh, allocation_rows())
        wh.publish()
        yield wh


@pytest.fixture
def slack() -> Iterator[SlackStub]:
    stub = SlackStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(stub))
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield stub
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(tmp_path: Path, slack: SlackStub) -> Settings:
    return Settings(
        db=tmp_path / "finops.duckdb",
        config=tmp_path / "finops.yaml",
        api={"public_url": "https://finops.example.com"},  # type: ignore[arg-type]
        slack={"token": "xoxb-test", "base_url": slack.url, "max_attempts": 3,  # type: ignore[arg-type]
               "timeout_s": 1, "platform_channel": "#finops-platform"},
    )

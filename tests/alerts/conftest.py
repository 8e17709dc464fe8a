"""Fixtures: a real HTTP stand-in for Slack's Web API (``tests.support.slack``), a real DuckDB
warehouse with allocation rows (``tests.support.budget_data``), and settings/config pointing
at both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finops.settings import Settings
from finops.warehouse import Warehouse
from models.config import FinOpsConfig, parse_config
from tests.support.budget_data import CONFIG, allocation_rows, load_allocation
from tests.support.slack import SlackStub, slack_server


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
    with slack_server() as stub:
        yield stub


@pytest.fixture
def settings(tmp_path: Path, slack: SlackStub) -> Settings:
    return Settings(
        db=tmp_path / "finops.duckdb",
        config=tmp_path / "finops.yaml",
        api={"public_url": "https://finops.example.com"},  # type: ignore[arg-type]
        slack={"token": "xoxb-test", "base_url": slack.url, "max_attempts": 3,  # type: ignore[arg-type]
               "timeout_s": 1, "platform_channel": "#finops-platform", "retries": 1,
               "backoff_s": 0.05, "per_channel_interval_s": 0.0, "max_wait_s": 10},
    )

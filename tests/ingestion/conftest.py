"""Fixtures of the ingestion tests (shared by the billing collectors: only add fixtures)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import free_port
from tests.support.s3 import FAKE_AWS_ENV, moto_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on loopback (real HTTP); boto3 clients point at it."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials so boto3 signs requests; never a real account."""
    for key, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def s3_client(moto_endpoint: str, aws_env: None) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def s3_bucket(s3_client: Any, request: pytest.FixtureRequest) -> str:
    """A fresh, empty bucket per test (moto keeps state for the whole session)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower())[:40].strip("-")
    name = f"bills-{slug}-{free_port()}"
    s3_client.create_bucket(Bucket=name)
    return name

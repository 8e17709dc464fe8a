"""A Ray address that is malformed or does not answer fails at once, naming it (``ray.init``
would retry for minutes)."""

from __future__ import annotations

import pytest

from finops.pipeline.ray_runner import _check_reachable
from models.errors import ConfigError, RunnerError
from tests.support import free_port


def test_an_address_nobody_answers_is_a_runner_error() -> None:
    address = f"127.0.0.1:{free_port()}"
    with pytest.raises(RunnerError, match=f"cannot reach Ray at {address}"):
        _check_reachable(address, timeout_s=2)
    with pytest.raises(RunnerError, match="cannot reach Ray at ray://127.0.0.1:"):
        _check_reachable(f"ray://{address}", timeout_s=2)


@pytest.mark.parametrize("address", ["nonsense", "ray://host", "host:port"])
def test_a_malformed_address_is_a_config_error(address: str) -> None:
    with pytest.raises(ConfigError, match="is not auto, ray://host:port or host:port"):
        _check_reachable(address)

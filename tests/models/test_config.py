"""finops.yaml: good files load, bad ones name the key path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.config import FinOpsConfig, hash_token, load_config, parse_config
from models.errors import ConfigError

GOOD = f"""
teams:
  - name: payments
    slack_channel: "#payments-costs"
    aliases: [Payments, team-payments]
  - name: search
ownership:
  mappings:
    - team: search
      namespaces: ["search-*"]
allocation:
  basis: max
  idle: share-by-quota
  shared_namespaces: [kube-system, monitoring]
budgets:
  - name: payments-monthly
    team: payments
    amount: 12000
api_tokens:
  - name: finance
    role: finance
    sha256: "{hash_token("secret")}"
"""


def test_good_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "finops.yaml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.team_aliases()["team-payments"] == "payments"
    assert config.allocation.idle == "share-by-quota"
    assert [t.percent for t in config.budgets[0].thresholds] == [50, 80, 100, 100]


def test_no_file_means_zero_config() -> None:
    config = load_config(None)
    assert config == FinOpsConfig()
    assert config.ownership.tag_keys == ["team", "user:team", "user_team"]


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found: .*absent\.yaml"):
        load_config(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"budgets": [{"name": "b", "team": "x", "amount": -5}]}, r"budgets\[0\]\.amount"),
        ({"allocation": {"idle": "sometimes"}}, r"allocation\.idle: Input should be"),
        ({"teams": [{"name": "Payments"}]}, r"teams\[0\]\.name: String should match"),
        ({"teams": [{"name": "a"}, {"name": "a"}]}, r"teams: .*repeated: \['a'\]"),
        ({"budgets": [{"name": "b", "amount": 5}]}, r"budgets\[0\]: .*needs a scope"),
        ({"colour": "blue"}, r"colour: Extra inputs are not permitted"),
        ({"api_tokens": [{"name": "t", "role": "admin", "sha256": "0" * 64}]},
         r"api_tokens\[0\]\.role"),
        ({"teams": [{"name": "a"}], "budgets": [{"name": "b", "team": "zz", "amount": 1}]},
         r"not declared under `teams`.*'zz'"),
    ],
)
def test_bad_config_names_the_key_path(data: object, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_config(data)


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "finops.yaml"
    path.write_text("teams: [unclosed")
    with pytest.raises(ConfigError, match="finops.yaml: not valid YAML"):
        load_config(path)


def test_tokens_are_stored_hashed() -> None:
    assert hash_token("demo-finance") != "demo-finance"
    assert len(hash_token("demo-finance")) == 64

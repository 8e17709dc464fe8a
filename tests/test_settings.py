"""Settings resolve against the working directory, and the config is never a bundled one."""

from __future__ import annotations

from pathlib import Path

import pytest

from finops.demo import DEMO_CONFIG
from finops.settings import Settings, get_settings
from models.errors import ConfigError


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory outside the checkout."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_warehouse_defaults_to_data_under_the_working_directory(elsewhere: Path) -> None:
    settings = Settings()
    assert settings.db == elsewhere / "data" / "finops.duckdb"
    assert settings.snapshot_path == elsewhere / "data" / "finops.published.duckdb"


def test_relative_paths_are_made_absolute_once(elsewhere: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINOPS_DB", "w/x.duckdb")
    settings = get_settings()
    monkeypatch.chdir("/")
    assert settings.db == elsewhere / "w" / "x.duckdb"


def test_no_config_anywhere_is_zero_config_never_the_demo(elsewhere: Path) -> None:
    source = Settings().config_source()
    assert source.path is None
    assert "zero-config" in source.describe()
    assert str(DEMO_CONFIG) not in source.describe()


def test_a_finops_yaml_in_the_working_directory_is_used(elsewhere: Path) -> None:
    (elsewhere / "finops.yaml").write_text("teams: []\n")
    source = Settings().config_source()
    assert source.path == elsewhere / "finops.yaml"
    assert source.describe() == f"Config: {elsewhere / 'finops.yaml'} (found in the working " \
                                "directory)"


def test_a_named_config_wins_over_the_working_directory(elsewhere: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (elsewhere / "finops.yaml").write_text("teams: []\n")
    named = elsewhere / "prod.yaml"
    named.write_text("teams: []\n")
    monkeypatch.setenv("FINOPS_CONFIG", "prod.yaml")
    assert get_settings().config_source().path == named


def test_a_named_config_that_does_not_exist_is_an_error(elsewhere: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (elsewhere / "finops.yaml").write_text("teams: []\n")  # never a silent fallback to this
    monkeypatch.setenv("FINOPS_CONFIG", "typo.yaml")
    with pytest.raises(ConfigError, match=f"config file not found: {elsewhere / 'typo.yaml'}"):
        get_settings().config_source()


def test_a_flag_overrides_the_environment(elsewhere: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINOPS_CONFIG", "from-env.yaml")
    assert get_settings(config=Path("flag.yaml")).config == elsewhere / "flag.yaml"


def test_lock_timeout_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().lock_timeout_s == 300
    monkeypatch.setenv("FINOPS_LOCK_TIMEOUT_S", "2.5")
    assert get_settings().lock_timeout_s == 2.5

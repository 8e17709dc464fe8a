"""The parity check's comparison: rows matched on every non-money column, money to 1e-9."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import yaml

from benchmarks.parity import VARIANTS, compare, months_between, variant_config
from models.config import FinOpsConfig


def frame(cost: float = 1.0, team: str | None = "payments") -> pl.DataFrame:
    return pl.DataFrame({"team": [team, None], "cost_kind": ["cpu", "idle"],
                         "effective_cost": [cost, 2.0], "billed_cost": [cost, 2.0]})


def test_same_rows_in_another_order_with_float_noise_are_identical() -> None:
    noisy = frame(1.0 + 1e-13).reverse()
    result = compare(frame(), noisy)
    assert result["identical"] and result["rows_after"] == 2
    assert result["max_abs_difference"]["effective_cost"] < 1e-12


def test_a_cent_moved_a_row_changed_or_a_column_added_is_not() -> None:
    assert not compare(frame(), frame(1.01))["identical"]
    changed = compare(frame(), frame(team="search"))
    assert not changed["identical"] and changed["only_before"] == changed["only_after"] == 1
    assert not compare(frame(), frame().with_columns(pl.lit("USD").alias("currency")))[
        "identical"]
    assert not compare(frame(), pl.concat([frame(), frame().head(1)]))["identical"]


def test_a_reporting_currency_variant_states_a_rate_for_every_month(tmp_path: Path) -> None:
    config = tmp_path / "base.yaml"
    config.write_text(yaml.safe_dump({"allocation": {"basis": "request"}}))
    months = months_between("2026-11-30", "2027-01-02")
    assert months == ["2026-11", "2026-12", "2027-01"]
    written = yaml.safe_load(variant_config(config, VARIANTS["reporting-eur"], tmp_path,
                                            months).read_text())
    assert written["reporting_currency"] == "EUR"
    assert [r["month"] for r in written["fx"]["rates"]] == months
    assert written["allocation"] == {"basis": "request"}
    FinOpsConfig.model_validate(written)  # what `finops allocate` will read
    quota = yaml.safe_load(variant_config(config, VARIANTS["quota"], tmp_path, months)
                           .read_text())
    assert quota["allocation"]["basis"] == "quota" and "fx" not in quota

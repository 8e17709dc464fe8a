"""The parity check's comparison: rows matched on every non-money column, money to 1e-9."""

from __future__ import annotations

import polars as pl

from benchmarks.parity import compare


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

"""The DDL in sql/ and the Polars schemas in models/ declare the same tables."""

from __future__ import annotations

import polars as pl
import pytest

from finops.warehouse import Warehouse
from models.errors import SchemaMismatch
from models.schemas import K8S_HOURLY, MAP, WAREHOUSE_TABLES, Table, conform

DUCKDB_TYPE = {
    pl.String(): "VARCHAR",
    pl.Float64(): "DOUBLE",
    pl.Datetime("us"): "TIMESTAMP",
    pl.Date(): "DATE",
    pl.Boolean(): "BOOLEAN",
    pl.List(pl.String()): "VARCHAR[]",
    MAP: "MAP(VARCHAR, VARCHAR)",
}


@pytest.mark.parametrize("table", WAREHOUSE_TABLES, ids=lambda t: t.name)
def test_ddl_matches_polars_schema(warehouse: Warehouse, table: Table) -> None:
    described = warehouse.frame(f"DESCRIBE {table.name}")
    ddl = dict(zip(described["column_name"], described["column_type"], strict=True))
    declared = {name: DUCKDB_TYPE[dtype] for name, dtype in table.schema.items()}
    assert ddl == declared


@pytest.mark.parametrize("table", WAREHOUSE_TABLES, ids=lambda t: t.name)
def test_table_round_trips_through_duckdb(warehouse: Warehouse, table: Table) -> None:
    """What DuckDB hands back to Polars has exactly the declared schema."""
    assert warehouse.frame(f"SELECT * FROM {table.name}").schema == table.schema


def test_conform_adds_missing_columns_and_orders_them() -> None:
    from models.schemas import K8S_QUOTA_HOUR

    frame = conform(pl.DataFrame({"hard": [2], "cluster": ["c"]}), K8S_QUOTA_HOUR)
    assert frame.columns == K8S_QUOTA_HOUR.columns
    assert frame["hard"].dtype == pl.Float64 and frame["namespace"].null_count() == 1


def test_conform_rejects_undeclared_columns() -> None:
    from models.schemas import K8S_QUOTA_HOUR

    with pytest.raises(SchemaMismatch, match="k8s_quota_hour: undeclared columns"):
        conform(pl.DataFrame({"bogus": [1]}), K8S_QUOTA_HOUR)


def test_conform_names_the_table_on_a_bad_type() -> None:
    from models.schemas import K8S_QUOTA_HOUR

    with pytest.raises(SchemaMismatch, match="k8s_quota_hour"):
        conform(pl.DataFrame({"hard": ["two cores"]}), K8S_QUOTA_HOUR)


def test_one_registry_names_every_hourly_kubernetes_table() -> None:
    from dataclasses import fields

    from finops.allocation.inputs import AllocationInputs
    from ingestion.k8s.hours import SAMPLE_SCHEMAS

    hourly = {t.name for t in WAREHOUSE_TABLES if t.name.startswith("k8s_") and
              t.name.endswith("_hour")}
    assert {h.table.name for h in K8S_HOURLY} == hourly
    assert {h.input for h in K8S_HOURLY} <= {f.name for f in fields(AllocationInputs)}
    assert {h.kind for h in K8S_HOURLY} == set(SAMPLE_SCHEMAS) - {"namespace"}
    for h in K8S_HOURLY:  # a sample of a kind carries the grain of its table (but the hour)
        assert set(h.table.grain) - {"hour"} <= set(SAMPLE_SCHEMAS[h.kind].names())

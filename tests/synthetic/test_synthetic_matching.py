"""Usage and bills describe the same machines: ids match and node hours equal billed hours."""

from __future__ import annotations

import polars as pl


def _cur_frame(cur, sql: str) -> pl.DataFrame:
    return cur.sql(sql).pl()


def test_eks_nodes_match_ec2_lines(cur, usage: dict[str, pl.DataFrame]) -> None:
    nodes = usage["k8s_node_hour"].filter(pl.col("cluster") == "prod-eks").with_columns(
        resource_id=pl.col("provider_id").str.split("/").list.last())
    assert nodes["provider_id"].str.starts_with("aws:///us-east-1").all()
    billed = _cur_frame(cur, """
        SELECT line_item_resource_id AS resource_id,
               CAST(line_item_usage_start_date AS TIMESTAMP) AS hour,
               sum(line_item_usage_amount) AS hours
        FROM cur WHERE line_item_usage_type LIKE 'BoxUsage:%'
          AND line_item_line_item_type IN ('Usage', 'SavingsPlanCoveredUsage')
          AND line_item_usage_account_id = '345678901234'
        GROUP BY ALL""")
    joined = nodes.join(billed.with_columns(pl.col("hour").cast(pl.Datetime("us"))),
                        on=["resource_id", "hour"], how="full", coalesce=True)
    assert joined.height == nodes.height == billed.height
    diff = (joined["running_seconds"] / 3600 - joined["hours"]).abs().max()
    assert diff is not None and diff < 1e-9


def test_gke_nodes_match_gce_lines(gcp: pl.DataFrame, usage: dict[str, pl.DataFrame]) -> None:
    nodes = usage["k8s_node_hour"].filter(pl.col("cluster") == "prod-gke")
    assert nodes["provider_id"].str.starts_with("gce://acme-prod-gke/").all()
    cores = gcp.filter(pl.col("sku").struct.field("description").str.contains("Core")) \
        .select(node=pl.col("resource").struct.field("name"),
                global_name=pl.col("resource").struct.field("global_name"),
                hour=pl.col("usage_start_time").str.to_datetime("%Y-%m-%dT%H:%M:%SZ",
                                                                time_unit="us"),
                seconds=pl.col("usage").struct.field("amount")
                / pl.col("system_labels").list.eval(pl.element().filter(
                    pl.element().struct.field("key") == "compute.googleapis.com/cores")
                    .struct.field("value")).list.first().cast(pl.Float64))
    joined = nodes.join(cores, on=["node", "hour"], how="full", coalesce=True)
    assert joined.height == nodes.height == cores.height
    assert (joined["running_seconds"] - joined["seconds"]).abs().max() < 1e-6
    expected = nodes.select(pl.format("//compute.googleapis.com/projects/{}/zones/{}/instances/{}",
                                      pl.lit("acme-prod-gke"), "zone", "node")).to_series()
    assert set(expected) == set(cores["global_name"])


def test_volumes_and_load_balancer_ids(cur, gcp: pl.DataFrame,
                                       usage: dict[str, pl.DataFrame]) -> None:
    volumes = usage["k8s_volume_hour"]
    ebs = {r[0] for r in cur.execute("SELECT DISTINCT line_item_resource_id FROM cur WHERE "
                                     "line_item_resource_id LIKE 'vol-%'").fetchall()}
    assert ebs == set(volumes.filter(pl.col("cluster") == "prod-eks")["volume_id"])
    disks = set(gcp["resource"].struct.field("name").filter(
        gcp["resource"].struct.field("name").str.starts_with("pvc-")))
    assert disks == set(volumes.filter(pl.col("cluster") == "prod-gke")["volume_id"])
    assert volumes.filter(pl.col("claim").is_null())["mounting_pods"].list.len().max() == 0
    lbs = {r[0] for r in cur.execute(
        "SELECT DISTINCT line_item_resource_id FROM cur WHERE line_item_product_code = 'AWSELB' "
        "AND line_item_line_item_type = 'Usage'").fetchall()}
    assert lbs == set(usage["k8s_lb_hour"]["resource_id"])

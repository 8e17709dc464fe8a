"""Hand-computed dollars for each policy. Reference prices 0.03/vCPU-h and 0.005/GiB-h make a
4 vCPU / 16 GiB node split 60 % CPU (0.12) / 40 % RAM (0.08); a $48/day node is $2/h:
$1.20/h CPU = $0.30 per core-hour, $0.80/h RAM = $0.05 per GiB-hour."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import pytest

from finops.allocation.engine import allocate
from finops.allocation.inputs import AllocationInputs
from models.config import parse_config
from tests.support.rows import GIB, bill_row, labels, node_rows, ns_row, pod_rows

PID = "aws:///us-east-1a/i-0000000000000aaa"
PRICES = {"prices": {"cpu_hour": 0.03, "ram_gib_hour": 0.005}}


def run(config: dict[str, Any] | None = None, **frames: list[dict]) -> pl.DataFrame:
    cfg = parse_config({"allocation": {**PRICES, **(config or {}).pop("allocation", {})},
                        **(config or {})})
    inputs = AllocationInputs.build(**{k: pl.DataFrame(v) for k, v in frames.items()})
    result = allocate(inputs, cfg, "test")
    assert result.reconciliation.get_column("difference").abs().max() in (0, None)
    return result.allocation


def cost(frame: pl.DataFrame, **where: Any) -> float:
    for column, value in where.items():
        frame = frame.filter(pl.col(column).is_null() if value is None
                             else pl.col(column) == value)
    return round(float(frame.get_column("effective_cost").sum()), 6)


NODE = node_rows("n1", provider_id=PID)
BILL = [bill_row("i-0000000000000aaa", 48.0)]


def test_pod_cost_and_idle_separate() -> None:
    out = run(nodes=NODE, bill=BILL, pods=pod_rows("p", "n1", "a"))
    assert cost(out, namespace="a", cost_kind="cpu") == pytest.approx(24 * 0.30)  # 1 core
    assert cost(out, namespace="a", cost_kind="ram") == pytest.approx(24 * 2 * 0.05)  # 2 GiB
    assert cost(out, cost_kind="idle", unowned_reason="idle-capacity") == pytest.approx(38.4)
    assert cost(out, team="a", owner_rule=None) == 0  # zero-config: no label, no team
    assert set(out.get_column("price_source")) == {"bill"}


def test_usage_above_request_counts_under_max_basis() -> None:
    pods = pod_rows("p", "n1", "a", cpu_req=1, cpu_use=2)
    assert cost(run(nodes=NODE, bill=BILL, pods=pods), cost_kind="cpu") == pytest.approx(14.4)
    req = run({"allocation": {"basis": "request"}}, nodes=NODE, bill=BILL, pods=pods)
    assert cost(req, cost_kind="cpu") == pytest.approx(7.2)
    use = run({"allocation": {"basis": "usage"}}, nodes=NODE, bill=BILL, pods=pods)
    assert cost(use, cost_kind="cpu") == pytest.approx(14.4)


def test_overcommitted_node_is_scaled_not_exceeded() -> None:
    pods = pod_rows("p", "n1", "a", cpu_req=3) + pod_rows("q", "n1", "b", cpu_req=3)
    out = run(nodes=NODE, bill=BILL, pods=pods)
    assert cost(out, namespace="a", cost_kind="cpu") == pytest.approx(14.4)  # 3/6 of $28.80
    assert cost(out, namespace="b", cost_kind="cpu") == pytest.approx(14.4)
    assert cost(out, cost_kind="idle") == pytest.approx(19.2 - 2 * 2.4)  # RAM idle only
    assert (out.get_column("effective_cost") < 0).sum() == 0


def test_idle_owned_by_cluster_owner() -> None:
    out = run({"ownership": {"cluster_owners": {"c1": "platform"}}},
              nodes=NODE, bill=BILL, pods=pod_rows("p", "n1", "a"))
    idle = cost(out, cost_kind="idle", team="platform", owner_rule="cluster-owner")
    assert idle == pytest.approx(38.4)


def test_idle_share_by_cost() -> None:
    pods = pod_rows("p", "n1", "a", cpu_req=1) + pod_rows("q", "n1", "b", cpu_req=3,
                                                            mem_req_gib=0, mem_use_gib=0)
    out = run({"allocation": {"idle": "share-by-cost"}}, nodes=NODE, bill=BILL, pods=pods)
    # CPU fully used -> no CPU idle; RAM idle (16-2 GiB = $16.80) goes all to `a` (only RAM user)
    assert cost(out, namespace="a", cost_kind="idle") == pytest.approx(16.8)
    assert cost(out, namespace="b", cost_kind="idle") == 0
    assert cost(out, namespace="a") == pytest.approx(7.2 + 2.4 + 16.8)


def test_idle_share_by_request() -> None:
    pods = pod_rows("p", "n1", "a", cpu_req=1, cpu_use=0, mem_req_gib=1, mem_use_gib=0) + \
        pod_rows("q", "n1", "b", cpu_req=0, cpu_use=1, mem_req_gib=1, mem_use_gib=0)
    out = run({"allocation": {"idle": "share-by-request"}}, nodes=NODE, bill=BILL, pods=pods)
    # CPU idle = 2 cores x 24h x 0.30 = 14.40, all to `a` (b requested no CPU)
    assert cost(out, namespace="a", cost_kind="idle") == pytest.approx(14.4 + 16.8 / 2)
    assert cost(out, namespace="b", cost_kind="idle") == pytest.approx(16.8 / 2)


def test_idle_share_by_quota() -> None:
    quota = [{"cluster": "c1", "namespace": ns, "quota": "q", "resource": r, "hour": h,
              "hard": v, "used": 0}
             for ns, cpu, mem in (("a", 3, 4 * GIB), ("b", 1, 12 * GIB))
             for r, v in (("requests.cpu", cpu), ("requests.memory", mem))
             for h in [datetime(2024, 5, 1, i) for i in range(24)]]
    pods = pod_rows("p", "n1", "a", cpu_req=0, cpu_use=0, mem_req_gib=0, mem_use_gib=0)
    out = run({"allocation": {"idle": "share-by-quota"}}, nodes=NODE, bill=BILL, pods=pods,
              quotas=quota)
    assert cost(out, namespace="a", cost_kind="idle") == pytest.approx(28.8 * 3 / 4 + 19.2 / 4)
    assert cost(out, namespace="b", cost_kind="idle") == pytest.approx(28.8 / 4 + 19.2 * 3 / 4)


def test_shared_namespace_weighted_and_even() -> None:
    pods = (pod_rows("k", "n1", "kube-system", cpu_req=1, mem_req_gib=0, mem_use_gib=0)
            + pod_rows("p", "n1", "a", cpu_req=1, mem_req_gib=0, mem_use_gib=0)
            + pod_rows("q", "n1", "b", cpu_req=2, mem_req_gib=0, mem_use_gib=0))
    shared = {"shared_namespaces": ["kube-*"]}
    out = run({"allocation": shared}, nodes=NODE, bill=BILL, pods=pods)
    assert cost(out, namespace="kube-system") == 0
    assert cost(out, namespace="a", shared_from="namespace:kube-system") == pytest.approx(7.2 / 3)
    assert cost(out, namespace="b", shared_from="namespace:kube-system") == pytest.approx(14.4 / 3)
    even = run({"allocation": {**shared, "shared_split": "even"}}, nodes=NODE, bill=BILL,
               pods=pods)
    assert cost(even, namespace="a", cost_kind="shared") == pytest.approx(3.6)


def test_control_plane_fee_spread_within_its_cluster_only() -> None:
    nodes = NODE + node_rows("m1", cluster="c2", provider_id="aws:///z/i-0000000000000bbb")
    pods = pod_rows("p", "n1", "a") + pod_rows("x", "m1", "other", cluster="c2")
    bill = BILL + [bill_row("arn:aws:eks:us-east-1:1:cluster/c1", 2.4, service_name="AmazonEKS")]
    out = run(nodes=nodes, bill=bill, pods=pods)
    assert cost(out, namespace="a", shared_from="fee:AmazonEKS") == pytest.approx(2.4)
    assert cost(out, cluster="c2", cost_kind="shared") == 0


def test_storage_split_by_mount_overlap_and_lb_by_hours() -> None:
    vols = [{"cluster": "c1", "namespace": "a", "claim": "data", "hour": datetime(2024, 5, 1, h),
                 "volume_name": "pv1", "volume_id": "vol-0123abcd", "size_bytes": 100 * GIB,
                 "mounting_pods": ["p", "q"] if h < 12 else ["p"], "running_seconds": 3600.0}
            for h in range(24)]
    lbs = [{"cluster": "c1", "namespace": "b", "service": "web", "hour": datetime(2024, 5, 1, h),
                "ingress": "web-0123456789.us-east-1.elb.amazonaws.com", "resource_id": None,
                "labels": labels(team="web"), "running_seconds": 3600.0} for h in range(24)]
    pods = pod_rows("p", "n1", "a", workload="p") + pod_rows("q", "n1", "a", workload="q")
    bill = BILL + [bill_row("vol-0123abcd", 2.4),
                   bill_row("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/web", 1.2)]
    out = run(nodes=NODE, bill=bill, pods=pods, volumes=vols, lbs=lbs)
    assert cost(out, workload_name="p", cost_kind="storage") == pytest.approx(1.2 / 2 + 1.2)
    assert cost(out, workload_name="q", cost_kind="storage") == pytest.approx(1.2 / 2)
    assert cost(out, namespace="b", cost_kind="load_balancer", team="web",
                owner_rule="workload-label") == pytest.approx(1.2)


def test_network_by_traffic_else_shared() -> None:
    pods = pod_rows("p", "n1", "a", net=1e9) + pod_rows("q", "n1", "b", net=3e9)
    net = [bill_row(None, 4.0, x_cluster="c1", service_category="Networking")]
    out = run(nodes=NODE, bill=BILL + net, pods=pods)
    assert cost(out, namespace="a", cost_kind="network") == pytest.approx(1.0)
    assert cost(out, namespace="b", cost_kind="network") == pytest.approx(3.0)
    quiet = pod_rows("p", "n1", "a") + pod_rows("q", "n1", "b", cpu_req=3)
    out = run(nodes=NODE, bill=BILL + net, pods=quiet)
    assert cost(out, shared_from="network", cost_kind="shared") == pytest.approx(4.0)


def test_split_bill_used_as_given_parent_remainder_is_idle() -> None:
    bill = [bill_row("i-0000000000000aaa", 10.0),
            bill_row("i-0000000000000aaa-split", 30.0, x_cluster="c1", x_namespace="a",
                     x_pod="p", x_split_parent_resource_id="i-0000000000000aaa")]
    out = run(nodes=NODE, bill=bill, pods=pod_rows("p", "n1", "a"))
    assert cost(out, namespace="a", price_source="split-bill") == pytest.approx(30.0)
    assert cost(out, cost_kind="idle") == pytest.approx(10.0)
    assert cost(out) == pytest.approx(40.0)  # never counted twice


def test_cloud_tags_mappings_taxes_and_commitments() -> None:
    bill = [bill_row("i-x", 5.0, tags=[{"key": "user:team", "value": "Payments"}]),
            bill_row("db-1", 3.0, sub_account_id="111"),
            bill_row("db-2", 2.0, tags=[{"key": "team", "value": "nobody"}]),
            bill_row("db-3", 1.0), bill_row(None, 0.5),
            bill_row(None, 1.5, charge_category="Tax"),
            bill_row(None, -1.0, charge_category="Credit"),
            bill_row("ri-1", 0.7, commitment_discount_status="Unused")]
    cfg = {"teams": [{"name": "payments"}, {"name": "data"}],
           "ownership": {"mappings": [{"team": "data", "aws_accounts": ["111"]}]}}
    out = run(cfg, bill=bill)
    assert cost(out, team="payments", owner_rule="tag") == 5.0
    assert cost(out, team="data", owner_rule="mapping") == 3.0
    assert cost(out, unowned_reason="unknown-team") == 2.0
    assert cost(out, unowned_reason="untagged-resource") == 1.0
    assert cost(out, unowned_reason="unmapped-account") == 0.5
    assert cost(out, unowned_reason="unattributed-tax-or-credit") == 0.5
    assert cost(out, unowned_reason="unused-commitment") == 0.7
    follow = run({**cfg, "allocation": {"tax_and_credits": "follow-spend"}}, bill=bill)
    # Net tax+credit 0.5 follows 12.20 of positive spend: payments holds 5/12.2 of it
    assert cost(follow, team="payments", cost_kind="tax") == pytest.approx(1.5 * 5 / 12.2)
    assert cost(follow, team="payments", cost_kind="credit") == pytest.approx(-1.0 * 5 / 12.2)


def test_gcp_and_azure_nodes_match_their_bill_lines() -> None:
    gce = node_rows("g1", provider_id="gce://proj/us-central1-a/gke-pool-1")
    vmss = ("/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/"
            "virtualMachineScaleSets/ss")
    az = (node_rows("z0", cluster="aks", provider_id=f"azure://{vmss}/virtualMachines/0")
          + node_rows("z1", cluster="aks", provider_id=f"azure://{vmss}/virtualMachines/1"))
    bill = [bill_row("//compute.googleapis.com/projects/proj/zones/us-central1-a/instances/"
                     "gke-pool-1", 7.0, provider="Google Cloud"),
            bill_row(vmss.lower(), 10.0, provider="Microsoft")]
    out = run(nodes=gce + az, bill=bill)
    assert cost(out, node="g1", cost_kind="idle") == 7.0
    assert cost(out, node="z0") == 5.0 and cost(out, node="z1") == 5.0
    assert cost(out, cost_kind="cloud") == 0


def test_namespace_label_as_of_each_hour() -> None:
    ns = [ns_row("a", team="old", valid_to=datetime(2024, 5, 1, 12)),
          ns_row("a", team="new", valid_from=datetime(2024, 5, 1, 12))]
    out = run(nodes=NODE, bill=BILL, pods=pod_rows("p", "n1", "a"), namespaces=ns)
    assert cost(out, team="old", cost_kind="cpu") == pytest.approx(3.6)
    assert cost(out, team="new", cost_kind="cpu") == pytest.approx(3.6)


def test_catalog_then_configured_price_when_no_bill() -> None:
    catalog = [{"provider": "AWS", "region": "us-east-1", "instance_type": "m5.xlarge",
                    "resource": "instance", "unit": "hour", "price": 0.5, "spot": False}]
    out = run(nodes=NODE, catalog=catalog)
    assert cost(out, price_source="catalog") == pytest.approx(12.0)
    assert cost(out, billing_account_id=None) == pytest.approx(12.0)
    cfg = run({"allocation": {"prices": {**PRICES["prices"],
                                         "instance_hour": {"m5.xlarge": 0.25}}}}, nodes=NODE)
    assert cost(cfg, price_source="configured") == pytest.approx(6.0)


def _quota(namespace: str, cpu: float, mem_gib: float) -> list[dict]:
    return [{"cluster": "c1", "namespace": namespace, "quota": "q", "resource": r, "hour": h,
             "hard": v, "used": 0}
            for r, v in (("requests.cpu", cpu), ("requests.memory", mem_gib * GIB))
            for h in [datetime(2024, 5, 1, i) for i in range(24)]]


def test_basis_quota_charges_the_quota() -> None:
    # a: quota 2 cores / 4 GiB > its pod's 1 core / 2 GiB -> charged the quota.
    # b: no quota -> max(request, usage) = 0.5 core / 1 GiB.
    # c: quota 0.1 core / 0.5 GiB < its pod's 0.25 core / 1 GiB -> charged the pod.
    # e: quota 1 core / 2 GiB, no pod -> a namespace-level row taken from idle.
    pods = (pod_rows("p", "n1", "a", cpu_req=1, cpu_use=0.5, mem_req_gib=2, mem_use_gib=1)
            + pod_rows("q", "n1", "b", cpu_req=0.5, cpu_use=0.25, mem_req_gib=1, mem_use_gib=0.5)
            + pod_rows("r", "n1", "c", cpu_req=0.25, cpu_use=0.25, mem_req_gib=1, mem_use_gib=1))
    quotas = _quota("a", 2, 4) + _quota("c", 0.1, 0.5) + _quota("e", 1, 2)
    out = run({"allocation": {"basis": "quota"}}, nodes=NODE, bill=BILL, pods=pods,
              quotas=quotas)
    assert cost(out, namespace="a", cost_kind="cpu") == pytest.approx(2 * 24 * 0.30)  # 14.40
    assert cost(out, namespace="a", cost_kind="ram") == pytest.approx(4 * 24 * 0.05)  # 4.80
    assert cost(out, namespace="b") == pytest.approx(0.5 * 24 * 0.30 + 1 * 24 * 0.05)  # 4.80
    assert cost(out, namespace="c") == pytest.approx(0.25 * 24 * 0.30 + 1 * 24 * 0.05)  # 3.00
    assert cost(out, namespace="e", workload_name=None, cost_kind="cpu") == pytest.approx(7.2)
    assert cost(out, namespace="e", workload_name=None, cost_kind="ram") == pytest.approx(2.4)
    # idle: 4 - 3.75 cores = 0.25 x 24 x 0.30; 16 - 8 GiB = 8 x 24 x 0.05
    assert cost(out, cost_kind="idle") == pytest.approx(1.8 + 9.6)
    assert cost(out) == pytest.approx(48.0)


def test_basis_quota_with_a_subnormal_usage_is_the_quota_not_nan() -> None:
    # The property tests found it: a namespace whose only pod uses 5e-324 cores (and
    # requests nothing) under a 1-core quota. Scaling by quota / (the pods' sum) overflowed
    # to inf, and the namespace's cost came out NaN.
    pods = pod_rows("p", "n1", "a", cpu_req=0, cpu_use=5e-324, mem_req_gib=0, mem_use_gib=1)
    out = run({"allocation": {"basis": "quota"}}, nodes=NODE, bill=BILL, pods=pods,
              quotas=_quota("a", 1, 0))
    assert out.get_column("effective_cost").is_nan().sum() == 0
    assert cost(out, namespace="a", cost_kind="cpu") == pytest.approx(1 * 24 * 0.30)  # 7.20
    assert cost(out) == pytest.approx(48.0)


def test_basis_quota_is_capped_by_the_node() -> None:
    # e's 3-core quota is more than the 1.25 idle cores the pods leave: it gets those only.
    pods = (pod_rows("p", "n1", "a", cpu_req=1, cpu_use=0.5, mem_req_gib=2, mem_use_gib=1)
            + pod_rows("q", "n1", "b", cpu_req=0.5, cpu_use=0.25, mem_req_gib=1, mem_use_gib=0.5)
            + pod_rows("r", "n1", "c", cpu_req=0.25, cpu_use=0.25, mem_req_gib=1, mem_use_gib=1))
    quotas = _quota("a", 2, 4) + _quota("e", 3, 2)
    out = run({"allocation": {"basis": "quota"}}, nodes=NODE, bill=BILL, pods=pods,
              quotas=quotas)
    assert cost(out, namespace="e", cost_kind="cpu") == pytest.approx(1.25 * 24 * 0.30)  # 9.00
    assert cost(out, cost_kind="idle") == pytest.approx(9.6)  # RAM only: no CPU idle left
    assert (out.get_column("effective_cost") < 0).sum() == 0
    # A pod-holding namespace whose quota exceeds the node is scaled like any over-claim:
    # a claims 8 of 4 cores with b 0.5 and c 0.25 -> a gets 8/8.75 of the node's CPU.
    over = run({"allocation": {"basis": "quota"}}, nodes=NODE, bill=BILL, pods=pods,
               quotas=_quota("a", 8, 4))
    assert cost(over, namespace="a", cost_kind="cpu") == pytest.approx(28.8 * 8 / 8.75)
    assert cost(over, cost_kind="idle") == pytest.approx((16 - 6) * 24 * 0.05)
    assert cost(over) == pytest.approx(48.0)

"""The seeded model of the synthetic organisation: clusters, nodes, workloads, pods, volumes.

``build_org(spec, seed)`` is pure: the same (size, seed) gives the same organisation. Pods
exist as intervals here (a few per replica slot, because rollouts replace pods); the hourly
rows are expanded later, a day at a time, by the writers.
"""

from __future__ import annotations

import heapq
import math
import random
from datetime import datetime, timedelta

from finops.synthetic import accounts as acc
from finops.synthetic.catalog import AWS_INSTANCES, GCE_INSTANCES
from finops.synthetic.model import (
    CloudResource,
    Cluster,
    Labels,
    LoadBalancer,
    Node,
    Org,
    Pod,
    Slot,
    Volume,
)
from finops.synthetic.namespaces import (
    daemonsets,
    job_slot,
    make_namespaces,
    make_teams,
    system_slots,
    tenant_slots,
)
from finops.synthetic.rand import hexid, rng, uid
from finops.synthetic.spec import SizeSpec

SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
TARGET_UTILISATION = 0.6  # requested share of allocatable the node pools are sized for


def clusters() -> list[Cluster]:
    return [
        Cluster(acc.EKS_CLUSTER, "aws", acc.AWS_REGION, acc.AWS_PROD[0],
                ("us-east-1a", "us-east-1b", "us-east-1c"), "m6i.2xlarge", "c6i.2xlarge"),
        Cluster(acc.GKE_CLUSTER, "gcp", acc.GCP_REGION, acc.GCP_GKE_PROJECT[0],
                ("us-central1-a", "us-central1-b", "us-central1-f"), "n2-standard-8",
                "n2-standard-8"),
    ]


def _suffix(r: random.Random, n: int = 5) -> str:
    return "".join(r.choice(SUFFIX) for _ in range(n))


def _node(cluster: Cluster, pool: str, itype: str, start: datetime, end: datetime,
          index: int, r: random.Random) -> Node:
    zone = cluster.zones[index % len(cluster.zones)]
    if cluster.provider == "aws":
        third = (index // 250 + r.randrange(0, 4) * 64) % 256  # unique per index, random-looking
        name = f"ip-10-{index // 62500}-{third}-{index % 250 + 2}.ec2.internal"
        instance = f"i-0{hexid(r, 16)}"
        provider_id = f"aws:///{zone}/{instance}"
        extra: Labels = (("eks.amazonaws.com/nodegroup", pool),
                 ("eks.amazonaws.com/capacityType", "ON_DEMAND"))
    else:
        name = f"gke-{cluster.name}-{pool}-{hexid(r, 8)}-{_suffix(r, 4)}"
        instance = name
        provider_id = f"gce://{cluster.account}/{zone}/{name}"
        extra = (("cloud.google.com/gke-nodepool", pool),)
    labels = extra + (("kubernetes.io/hostname", name),
                      ("node.kubernetes.io/instance-type", itype),
                      ("topology.kubernetes.io/region", cluster.region),
                      ("topology.kubernetes.io/zone", zone))
    return Node(cluster.name, name, instance, provider_id, itype, zone, pool, start, end, labels)


def _pool_size(slots: list[Slot], itype: str, ds_cpu: float) -> int:
    spec = {**AWS_INSTANCES, **GCE_INSTANCES}[itype]
    cpu = sum(s.cpu_request or 0.1 for s in slots)
    mem = sum((s.memory_request or 2**28) for s in slots) / 1024**3
    by_cpu = cpu / (spec.vcpu * 0.97 * TARGET_UTILISATION - ds_cpu)
    by_mem = mem / (spec.memory_gib * 0.9 * TARGET_UTILISATION)
    return max(3, math.ceil(max(by_cpu, by_mem)))


def _place(slots: list[Slot], nodes: list[Node]) -> None:
    """Least-requested placement, like the default scheduler's spreading score."""
    heap = [(0.0, n.name, n.allocatable_cpu) for n in nodes]
    heapq.heapify(heap)
    for slot in slots:
        load, name, cap = heapq.heappop(heap)
        slot.node = name
        heapq.heappush(heap, (load + (slot.cpu_request or 0.1) / cap, name, cap))


def _weekdays(spec: SizeSpec) -> list[datetime]:
    days = [spec.start + timedelta(days=d) for d in range(spec.days)]
    return [d for d in days if d.weekday() < 5]


def _batch_pool(org: Org, cluster: Cluster, r: random.Random) -> list[Slot]:
    """A nodegroup the autoscaler brings up on weekdays for the ETL jobs, one node per job."""
    per_day = max(1, org.spec.replica_slots // 1000)
    jobs: list[Slot] = []
    for day in _weekdays(org.spec):
        for _ in range(per_day):
            job = job_slot(cluster.name, day, len(jobs), r)
            node = _node(cluster, "batch", cluster.burst_type,
                         job.start - timedelta(minutes=3, seconds=r.randrange(60)),
                         job.end + timedelta(minutes=10, seconds=r.randrange(60)),
                         len(org.nodes), r)
            job.node = node.name
            org.nodes.append(node)
            jobs.append(job)
    return jobs


def _burst_pool(org: Org, cluster: Cluster, tenants: list[Slot], r: random.Random) -> list[Slot]:
    """An HPA scale-up for a week: extra replicas of one workload on extra nodes."""
    spec = org.spec
    start = spec.start + timedelta(days=min(11, spec.days // 3), hours=6, minutes=12)
    end = start + timedelta(days=min(7, max(1, spec.days // 3)), hours=-3, minutes=28)
    pick = [s for s in tenants if s.namespace == "ml-serving"] or tenants
    base = pick[0]
    count = max(3, len(tenants) // 40)
    nodes = [_node(cluster, "burst", cluster.burst_type, start - timedelta(minutes=2),
                   end + timedelta(minutes=11), len(org.nodes) + i, r)
             for i in range(max(1, count // 3))]
    org.nodes += nodes
    extra = [Slot(base.cluster, base.namespace, base.workload, base.kind, 100 + i, start, end,
                  base.cpu_request, base.memory_request, base.cpu_util, base.memory_util,
                  base.labels, base.workload_labels, node=nodes[i % len(nodes)].name)
             for i in range(count)]
    return extra


def _cluster_nodes(org: Org, cluster: Cluster, r: random.Random) -> None:
    spec = org.spec
    tenants = [s for s in org.slots if s.cluster == cluster.name]
    ds_cpu = sum(cpu for _, _, cpu, _ in daemonsets(cluster.name, "main"))
    base = len(org.nodes)
    provisional = system_slots(cluster.name, spec, 0)
    size = _pool_size(tenants + provisional, cluster.main_type, ds_cpu)
    org.nodes += [_node(cluster, "main" if cluster.provider == "aws" else "default-pool",
                        cluster.main_type, spec.start, spec.end, base + i, r)
                  for i in range(size)]
    main = org.nodes[base:]
    system = system_slots(cluster.name, spec, size)
    _place(system + tenants, main)
    org.slots += system
    extra = _batch_pool(org, cluster, r) if cluster.provider == "aws" else \
        _burst_pool(org, cluster, tenants, r)
    org.slots += extra


def _daemonset_slots(org: Org, r: random.Random) -> list[Slot]:
    out = []
    for node in org.nodes:
        for ns, name, cpu, mem in daemonsets(node.cluster, node.pool):
            labels = (("app.kubernetes.io/name", name),)
            out.append(Slot(node.cluster, ns, name, "DaemonSet", 0, node.start, node.end, cpu,
                            mem * 1024**3 or None, r.uniform(0.2, 0.8), r.uniform(0.5, 0.9),
                            labels, labels, node=node.name))
    return out


def _rollouts(slot: Slot, spec: SizeSpec, r: random.Random) -> list[datetime]:
    if slot.kind in ("Job", "DaemonSet"):
        return []
    count, p = 0, math.exp(-spec.rollouts_per_slot)
    acc_p = r.random()
    while acc_p > p:  # Knuth's Poisson draw
        count += 1
        acc_p *= r.random()
    minutes = int((slot.end - slot.start).total_seconds() // 60)
    return sorted(slot.start + timedelta(minutes=r.randrange(1, minutes)) for _ in range(count))


def _pod_name(slot: Slot, template: str, r: random.Random) -> str:
    if slot.kind == "StatefulSet":
        return f"{slot.workload}-{slot.replica}"
    if slot.kind == "Job":
        return f"{slot.workload}-{int(slot.start.timestamp()) // 60}-{_suffix(r)}"
    if slot.kind == "DaemonSet":
        return f"{slot.workload}-{_suffix(r)}"
    return f"{slot.workload}-{template}-{_suffix(r)}"


def _pods(org: Org, r: random.Random) -> None:
    """Cut every slot into pods at its rollouts; a rollout may move the pod to another node."""
    pools: dict[str, list[str]] = {}
    for node in org.nodes:
        if node.start <= org.spec.start and node.end >= org.spec.end:
            pools.setdefault(node.cluster, []).append(node.name)
    templates: dict[tuple[str, str, str, int], str] = {}
    for index, slot in enumerate(org.slots):
        cuts = [slot.start, *_rollouts(slot, org.spec, r), slot.end]
        host = slot.node
        for gen, (start, end) in enumerate(zip(cuts, cuts[1:], strict=False)):
            key = (slot.cluster, slot.namespace, slot.workload, gen)
            template = templates.setdefault(key, _suffix(r, 10))
            if gen and slot.kind == "Deployment" and r.random() < 0.3:
                host = r.choice(pools[slot.cluster])
            org.pods.append(Pod(len(org.pods), index, slot.cluster, slot.namespace,
                                _pod_name(slot, template, r), uid(r), host, start, end))


def _volumes(org: Org, r: random.Random) -> None:
    zones = {n.name: n.zone for n in org.nodes}
    for index, slot in enumerate(org.slots):
        if not slot.volume_gib:
            continue
        cluster = org.cluster(slot.cluster)
        pv = f"pvc-{uid(r)}"
        vid = f"vol-0{hexid(r, 16)}" if cluster.provider == "aws" else pv
        sc = "gp3" if cluster.provider == "aws" else "standard-rwo"
        org.volumes.append(Volume(slot.cluster, slot.namespace,
                                  f"data-{slot.workload}-{slot.replica}", pv, vid, sc,
                                  slot.volume_gib, zones[slot.node], slot.start, slot.end, index))
    # A released PV whose claim was deleted: still billed, mounted by nobody.
    org.volumes.append(Volume(acc.EKS_CLUSTER, None, None, f"pvc-{uid(r)}",
                              f"vol-0{hexid(r, 16)}", "gp3", 200, "us-east-1b",
                              org.spec.start, org.spec.end, None))


def _load_balancers(org: Org, r: random.Random) -> None:
    name, suffix = f"a{hexid(r, 31)}", hexid(r, 16)
    arn = (f"arn:aws:elasticloadbalancing:{acc.AWS_REGION}:{acc.AWS_PROD[0]}:loadbalancer/net/"
           f"{name}/{suffix}")
    org.load_balancers.append(LoadBalancer(
        acc.EKS_CLUSTER, "ingress-nginx", "ingress-nginx-controller",
        f"{name}-{suffix}.elb.{acc.AWS_REGION}.amazonaws.com", arn, org.spec.start, org.spec.end,
        (("app.kubernetes.io/name", "ingress-nginx"),)))


def _cloud(org: Org, r: random.Random) -> None:
    prod, sandbox = acc.AWS_PROD[0], acc.AWS_SANDBOX[0]
    data, gke = acc.GCP_DATA_PROJECT[0], acc.GCP_GKE_PROJECT[0]
    sub = acc.AZURE_SUBSCRIPTION[0]
    rds = f"arn:aws:rds:{acc.AWS_REGION}:{prod}:db:"
    rg = f"/subscriptions/{sub}/resourceGroups"
    cloud = [
        CloudResource("aws", prod, "rds", rds + "payments-db", "payments-db", "db.r6g.large:200",
                      (("user_team", "payments"), ("user_env", "prod"))),
        CloudResource("aws", prod, "rds", rds + "orders-db", "orders-db", "db.m6g.large:100",
                      (("user_team", "checkout"),)),
        CloudResource("aws", prod, "s3", "acme-payments-receipts", "acme-payments-receipts",
                      "800", (("user_team", "payments"),)),
        CloudResource("aws", prod, "s3", "acme-datalake-raw", "acme-datalake-raw", "12000",
                      (("user_team", "data"),)),
        CloudResource("aws", prod, "s3", "acme-prod-logs", "acme-prod-logs", "3000"),
        CloudResource("aws", sandbox, "ec2", f"i-0{hexid(r, 16)}", "sandbox-bastion", "t3.medium"),
        CloudResource("aws", sandbox, "ec2", f"i-0{hexid(r, 16)}", "sandbox-jenkins", "t3.medium"),
        CloudResource("aws", sandbox, "s3", "acme-sandbox-scratch", "acme-sandbox-scratch", "500"),
        CloudResource("gcp", data, "cloudsql", "analytics-pg", "analytics-pg", "4:16",
                      (("team", "data"),)),
        CloudResource("gcp", data, "gcs", "acme-ml-models", "acme-ml-models", "4000",
                      (("team", "ml"),)),
        CloudResource("gcp", data, "gcs", "acme-exports", "acme-exports", "1500"),
        CloudResource("gcp", gke, "gcs", "acme-gke-backups", "acme-gke-backups", "900"),
        CloudResource("azure", sub, "azure-vm", f"{rg}/rg-search-ci/providers/Microsoft.Compute/"
                      "virtualMachines/vm-search-ci", "vm-search-ci", "Standard_D4s_v5",
                      (("team", "search"),)),
        CloudResource("azure", sub, "azure-vm", f"{rg}/rg-reporting/providers/Microsoft.Compute/"
                      "virtualMachines/vm-legacy-reporting", "vm-legacy-reporting",
                      "Standard_B2ms"),
        CloudResource("azure", sub, "azure-disk", f"{rg}/rg-search-ci/providers/Microsoft.Compute/"
                      "disks/vm-search-ci-osdisk", "vm-search-ci-osdisk", "P10",
                      (("team", "search"),)),
        CloudResource("azure", sub, "azure-disk", f"{rg}/rg-reporting/providers/Microsoft.Compute/"
                      "disks/vm-legacy-reporting-osdisk", "vm-legacy-reporting-osdisk", "P10"),
        CloudResource("azure", sub, "azure-blob", f"{rg}/rg-backups/providers/Microsoft.Storage/"
                      "storageAccounts/acmebackups", "acmebackups", "2000"),
    ]
    for team in org.teams[8:]:  # bigger sizes: every extra team has a tagged bucket
        cloud.append(CloudResource("aws", prod, "s3", f"acme-{team.name}-assets",
                                   f"acme-{team.name}-assets", str(100 + r.randrange(900)),
                                   (("user_team", team.name),)))
    org.cloud = cloud


def build_org(spec: SizeSpec, seed: int) -> Org:
    teams = make_teams(spec)
    org = Org(spec, seed, teams, clusters())
    org.namespaces = make_namespaces(spec, teams, rng(seed, "namespaces"))
    org.slots = tenant_slots(spec, org.namespaces, rng(seed, "workloads"))
    nodes_rng = rng(seed, "nodes")
    for cluster in org.clusters:
        _cluster_nodes(org, cluster, nodes_rng)
    org.slots += _daemonset_slots(org, rng(seed, "daemonsets"))
    _pods(org, rng(seed, "pods"))
    _volumes(org, rng(seed, "volumes"))
    _load_balancers(org, rng(seed, "lbs"))
    _cloud(org, rng(seed, "cloud"))
    return org

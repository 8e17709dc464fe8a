"""Teams, namespaces (with their label mess) and workloads of the synthetic organisation."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from finops.synthetic.accounts import EKS_CLUSTER, GKE_CLUSTER
from finops.synthetic.model import Labels, Namespace, NamespaceState, Slot, Team
from finops.synthetic.spec import SizeSpec

BASE_TEAMS = ("payments", "checkout", "catalog", "search", "data", "ml", "identity", "growth")
SHARED = ("kube-system", "monitoring", "ingress-nginx")

# The demo's namespaces: (cluster, name, owner, label value as written, note).
# A label value of None means no `team` label; "@x" means only an annotation team=x.
DEMO_NAMESPACES: tuple[tuple[str, str, str | None, str | None], ...] = (
    (EKS_CLUSTER, "cert-manager", None, None),
    (EKS_CLUSTER, "argocd", None, None),
    (EKS_CLUSTER, "default", None, None),
    (EKS_CLUSTER, "payments-api", "payments", "payments"),
    (EKS_CLUSTER, "payments-worker", "payments", "Payments"),
    (EKS_CLUSTER, "payments-legacy", "payments", "team-payments"),
    (EKS_CLUSTER, "checkout-api", "checkout", "checkout"),
    (EKS_CLUSTER, "checkout-web", "checkout", "checkout"),
    (EKS_CLUSTER, "catalog-api", "catalog", "catalog"),
    (EKS_CLUSTER, "catalog-sync", "catalog", "catalog"),
    (EKS_CLUSTER, "search-api", "search", "search"),
    (EKS_CLUSTER, "search-indexer", "search", "search"),
    (EKS_CLUSTER, "search-experiments", "search", "~search"),  # labelled on day 20
    (EKS_CLUSTER, "identity", "identity", "identity"),
    (EKS_CLUSTER, "auth-proxy", "identity", "@identity"),
    (EKS_CLUSTER, "growth-experiments", "growth", "growth"),
    (EKS_CLUSTER, "notifications", "growth", "growth"),
    (EKS_CLUSTER, "data-pipeline", "data", "data"),
    (EKS_CLUSTER, "batch-jobs", "data", "data"),
    (EKS_CLUSTER, "fraud-detection", "payments", "fraud"),  # unknown team value
    (EKS_CLUSTER, "sandbox-alice", None, None),
    (GKE_CLUSTER, "gmp-system", None, None),
    (GKE_CLUSTER, "default", None, None),
    (GKE_CLUSTER, "ml-training", "ml", "ml"),
    (GKE_CLUSTER, "ml-serving", "ml", "ml"),
    (GKE_CLUSTER, "recommendations", "ml", "ml"),
    (GKE_CLUSTER, "feature-store", "data", "data"),
    (GKE_CLUSTER, "analytics", "data", "data"),
    (GKE_CLUSTER, "search-ranking", "search", "search"),
    (GKE_CLUSTER, "catalog-images", "catalog", "catalog"),
    (GKE_CLUSTER, "payments-fraud", "payments", "Payments"),
    (GKE_CLUSTER, "growth-analytics", "growth", "growth"),
    (GKE_CLUSTER, "identity-audit", "identity", "identity"),
    (GKE_CLUSTER, "checkout-events", "checkout", "checkout"),
    (GKE_CLUSTER, "jupyter", None, "ds-team"),  # unknown team value
)
QUOTA_NAMESPACES = {"payments-api", "checkout-api", "search-api", "ml-training", "ml-serving",
                    "data-pipeline"}
ROLES = ("api", "worker", "web", "consumer", "scheduler", "gateway", "cache", "indexer")
CPU_CHOICES = (0.1, 0.25, 0.5, 0.5, 1.0, 2.0)
MEM_CHOICES_GIB = (0.25, 0.5, 1.0, 1.0, 2.0, 4.0)
GIB = 1024**3


def make_teams(spec: SizeSpec) -> list[Team]:
    names = list(BASE_TEAMS) + [f"team-{i:02d}" for i in range(len(BASE_TEAMS), spec.teams)]
    aliases = {"payments": ("Payments", "team-payments")}
    return [Team(n, f"#{n}-costs", aliases.get(n, ())) for n in names[: spec.teams]]


def _labels(name: str, value: str | None) -> tuple[Labels, Labels]:
    base = (("kubernetes.io/metadata.name", name),)
    if value is None:
        return base, ()
    if value.startswith("@"):
        return base, (("team", value[1:]),)
    return base + (("team", value),), ()


def _history(name: str, value: str | None, spec: SizeSpec) -> list[NamespaceState]:
    start = spec.start - timedelta(days=90)
    if value is not None and value.startswith("~"):  # unlabelled, then fixed mid-window
        fixed = spec.start + timedelta(days=min(19, spec.days // 2), hours=14, minutes=7)
        labels, _ = _labels(name, value[1:])
        return [NamespaceState(start, fixed, _labels(name, None)[0]),
                NamespaceState(fixed, None, labels)]
    labels, annotations = _labels(name, value)
    return [NamespaceState(start, None, labels, annotations)]


def _generated(spec: SizeSpec, teams: list[Team], r: random.Random) -> list[tuple]:
    """Extra tenant namespaces for sizes above S, with the same kinds of label mess."""
    rows: list[tuple] = []
    for i in range(spec.namespaces - len(DEMO_NAMESPACES) + 5):
        team = teams[i % len(teams)].name
        cluster = EKS_CLUSTER if i % 2 == 0 else GKE_CLUSTER
        roll = r.random()
        value = (team if roll < 0.85 else team.capitalize() if roll < 0.88
                 else None if roll < 0.94 else f"{team}-old" if roll < 0.97 else f"@{team}")
        rows.append((cluster, f"{team}-svc-{i:04d}", team, value))
    return rows


def make_namespaces(spec: SizeSpec, teams: list[Team], r: random.Random) -> list[Namespace]:
    out = [Namespace(c, n, None, _history(n, None, spec), shared=True)
           for c in (EKS_CLUSTER, GKE_CLUSTER) for n in SHARED]
    rows = list(DEMO_NAMESPACES)
    if spec.namespaces > len(DEMO_NAMESPACES):
        rows += _generated(spec, teams, r)
    for cluster, name, owner, value in rows:
        out.append(Namespace(cluster, name, owner, _history(name, value, spec),
                             quota=name in QUOTA_NAMESPACES))
    return out


def _requests(r: random.Random) -> tuple[float | None, float | None, float, float]:
    if r.random() < 0.07:  # no requests at all: usage in absolute cores / bytes
        return None, None, round(r.uniform(0.02, 0.3), 3), r.uniform(64, 512) * 1024**2
    cpu, mem = r.choice(CPU_CHOICES), r.choice(MEM_CHOICES_GIB) * GIB
    cpu_util = min(r.lognormvariate(-0.8, 0.55), 1.8)  # ~10% run above their request
    return cpu, mem, cpu_util, r.uniform(0.45, 1.1)


def _workload_slots(ns: Namespace, role: str, replicas: int, spec: SizeSpec,
                    r: random.Random) -> list[Slot]:
    kind = "StatefulSet" if role == "indexer" else "Deployment"
    cpu, mem, cpu_util, mem_util = _requests(r)
    pod_team = ns.owner if ns.owner and r.random() < 0.2 else None
    if ns.name == "notifications" and role == "worker":
        pod_team = "checkout"  # pods labelled for another team than their namespace
    labels: Labels = (("app", role),) + ((("team", pod_team),) if pod_team else ())
    volume = r.choice((10, 20, 50, 100)) if kind == "StatefulSet" else 0
    return [Slot(ns.cluster, ns.name, role, kind, i, spec.start, spec.end, cpu, mem,
                 cpu_util * r.uniform(0.85, 1.15), mem_util, labels, labels, volume_gib=volume)
            for i in range(replicas)]


def tenant_slots(spec: SizeSpec, namespaces: list[Namespace], r: random.Random) -> list[Slot]:
    tenants = [ns for ns in namespaces if not ns.shared and ns.name != "batch-jobs"]
    taken: dict[tuple[str, str], set[str]] = {(ns.cluster, ns.name): set() for ns in tenants}
    slots: list[Slot] = []
    while len(slots) < spec.replica_slots:
        for ns in tenants:
            used = taken[(ns.cluster, ns.name)]
            free = [role for role in ROLES if role not in used]
            if not free or len(slots) >= spec.replica_slots:
                continue
            role = r.choice(free)
            used.add(role)
            replicas = min(r.choice((1, 1, 2, 2, 3, 4)), spec.replica_slots - len(slots))
            slots += _workload_slots(ns, role, replicas, spec, r)
    return slots


def system_slots(cluster: str, spec: SizeSpec, nodes: int) -> list[Slot]:
    """Cluster add-ons: DNS, monitoring, the ingress controller (DaemonSets come with nodes)."""
    def slot(ns: str, wl: str, kind: str, i: int, cpu: float, mem_gib: float, vol: int = 0,
             util: float = 0.5) -> Slot:
        labels: Labels = (("app.kubernetes.io/name", wl),)
        return Slot(cluster, ns, wl, kind, i, spec.start, spec.end, cpu, mem_gib * GIB, util,
                    0.7, labels, labels, volume_gib=vol)

    dns = "coredns" if cluster == EKS_CLUSTER else "kube-dns"
    out = [slot("kube-system", dns, "Deployment", i, 0.1, 0.07) for i in range(2)]
    out.append(slot("monitoring", "prometheus", "StatefulSet", 0, 1.0, 4.0, vol=100, util=0.7))
    out.append(slot("monitoring", "grafana", "Deployment", 0, 0.25, 0.5, util=0.2))
    controllers = max(2, nodes // 40)
    out += [slot("ingress-nginx", "ingress-nginx-controller", "Deployment", i, 0.5, 0.5)
            for i in range(controllers)]
    return out


def daemonsets(cluster: str, pool: str) -> list[tuple[str, str, float, float]]:
    """(namespace, name, cpu request, memory GiB) of the DaemonSets a node of this pool runs."""
    if cluster == EKS_CLUSTER:
        base = [("kube-system", "aws-node", 0.025, 0.0), ("kube-system", "kube-proxy", 0.1, 0.0)]
    else:
        base = [("kube-system", "fluentbit-gke", 0.1, 0.2),
                ("kube-system", "pdcsi-node", 0.01, 0.0)]
    if pool != "batch":
        base.append(("monitoring", "node-exporter", 0.05, 0.05))
    return base


def job_slot(cluster: str, day: datetime, index: int, r: random.Random) -> Slot:
    """One run of the data team's nightly ETL CronJob on the batch pool."""
    start = day + timedelta(hours=8, minutes=5 + r.randrange(20))
    end = start + timedelta(hours=r.randrange(3, 7), minutes=r.randrange(60))
    labels: Labels = (("app", "nightly-etl"), ("job-name", f"nightly-etl-{index}"))
    return Slot(cluster, "batch-jobs", "nightly-etl", "Job", index, start, end, 6.0, 12 * GIB,
                r.uniform(0.6, 0.95), 0.8, labels, (("app", "nightly-etl"),))

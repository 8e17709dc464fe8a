"""The plain data classes of the synthetic organisation (no generation logic here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from finops.synthetic.catalog import AWS_INSTANCES, GCE_INSTANCES, GIB, InstanceType
from finops.synthetic.spec import SizeSpec

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Team:
    name: str
    slack_channel: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cluster:
    name: str
    provider: str  # aws | gcp
    region: str
    account: str  # AWS linked account id or GCP project id
    zones: tuple[str, ...]
    main_type: str
    burst_type: str


@dataclass
class Node:
    cluster: str
    name: str
    instance_id: str  # i-… on AWS; the instance name on GCE
    provider_id: str
    instance_type: str
    zone: str
    pool: str
    start: datetime
    end: datetime
    labels: Labels = ()

    @property
    def itype(self) -> InstanceType:
        return {**AWS_INSTANCES, **GCE_INSTANCES}[self.instance_type]

    @property
    def allocatable_cpu(self) -> float:
        return round(self.itype.vcpu * 0.97 - 0.07, 3)

    @property
    def allocatable_memory(self) -> float:
        return float(int(self.itype.memory_gib * GIB * 0.9))


@dataclass(frozen=True)
class NamespaceState:
    valid_from: datetime
    valid_to: datetime | None
    labels: Labels
    annotations: Labels = ()


@dataclass
class Namespace:
    cluster: str
    name: str
    owner: str | None  # the team that really owns it (what a perfect label would say)
    history: list[NamespaceState]
    shared: bool = False
    quota: bool = False


@dataclass
class Slot:
    """One long-running replica (or one job run, or one DaemonSet pod on one node)."""

    cluster: str
    namespace: str
    workload: str
    kind: str  # Deployment | StatefulSet | DaemonSet | Job
    replica: int
    start: datetime
    end: datetime
    cpu_request: float | None
    memory_request: float | None
    cpu_util: float  # usage as a fraction of request (or absolute cores without request)
    memory_util: float
    labels: Labels
    workload_labels: Labels
    node: str = ""
    volume_gib: int = 0  # StatefulSets: a PVC per replica


@dataclass
class Pod:
    index: int
    slot: int
    cluster: str
    namespace: str
    name: str
    uid: str
    node: str
    start: datetime
    end: datetime


@dataclass
class Volume:
    cluster: str
    namespace: str | None
    claim: str | None
    name: str  # PV name pvc-<uid>
    volume_id: str  # vol-… or the GCE disk name
    storage_class: str
    size_gib: int
    zone: str
    start: datetime
    end: datetime
    slot: int | None  # the replica slot whose pods mount it


@dataclass
class LoadBalancer:
    cluster: str
    namespace: str
    service: str
    ingress: str
    resource_id: str
    start: datetime
    end: datetime
    labels: Labels = ()


@dataclass(frozen=True)
class CloudResource:
    """Spend outside Kubernetes: databases, buckets, VMs."""

    provider: str
    account: str
    kind: str  # rds | s3 | ec2 | cloudsql | gcs | azure-vm | azure-disk | azure-blob
    resource_id: str
    name: str
    size: str  # instance class / machine type / GB
    tags: Labels = ()


@dataclass
class Org:
    spec: SizeSpec
    seed: int
    teams: list[Team]
    clusters: list[Cluster]
    namespaces: list[Namespace] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    load_balancers: list[LoadBalancer] = field(default_factory=list)
    cloud: list[CloudResource] = field(default_factory=list)

    def cluster(self, name: str) -> Cluster:
        return next(c for c in self.clusters if c.name == name)

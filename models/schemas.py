"""Polars schemas of every warehouse table, declared once.

The DuckDB DDL in ``sql/migrations`` must agree with these column for column;
``tests/models/test_schemas.py`` holds the two together. Each table also declares its
grain (the columns that identify a row) so loaders and tests know what "one copy" means.
``K8S_HOURLY`` is the one list of the hourly Kubernetes tables, under the names the
collectors and the engine give them.

Conventions:
- timestamps are naive UTC (``Datetime("us")``), days are ``Date``;
- money is ``Float64`` everywhere (DuckDB ``DOUBLE``) and compared to the cent;
- CPU in cores, memory and storage in bytes, durations in seconds;
- label and tag maps are ``List(Struct(key, value))`` in Polars, which is how Arrow
  hands DuckDB's ``MAP(VARCHAR, VARCHAR)`` to Polars and back.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from models.errors import SchemaMismatch

STR: pl.DataType = pl.String()
F64: pl.DataType = pl.Float64()
TS: pl.DataType = pl.Datetime("us")
DAY: pl.DataType = pl.Date()
BOOL: pl.DataType = pl.Boolean()
MAP: pl.DataType = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))


# Columns a load stamps on every row it writes (which run, which file, which collector): two
# loads of the same data differ in them, the allocation does not.
LOAD_STAMPS = ("x_ingest_run", "x_source_file", "x_source")


@dataclass(frozen=True)
class Days:
    """Which UTC days a row of an allocation input bears on, so that every load can record the
    days it changed (``finops.changes``, inside ``Warehouse.load``). ``kind``:

    - ``span``: the row bears on the days from ``start`` up to ``end`` (exclusive; SQL
      expressions over the row); ``end`` None: the day of ``start`` (an hourly row);
    - ``history``: the row holds values valid from ``start`` to ``end`` (null: still valid), and
      a load rewrites a whole history at once: a day changed when the values valid in it did;
    - ``every``: the rows bear on every day (a price list): any change marks every allocated day.

    Columns in ``ignore`` (the load stamps) do not count as a change. ``allocated_only``: the
    rows only change how days with other data are allocated (exchange rates), so only days
    already allocated are marked (a day not allocated yet is owed through its own data).
    """

    kind: str
    start: str = ""
    end: str | None = None
    ignore: tuple[str, ...] = LOAD_STAMPS
    allocated_only: bool = False


HOURLY_DAYS = Days("span", "hour")


@dataclass(frozen=True)
class Table:
    """A warehouse table: its name, Polars schema and grain (row identity); ``days`` for the
    tables the allocation reads (a load of one marks the days it changed)."""

    name: str
    schema: pl.Schema
    grain: tuple[str, ...]
    days: Days | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names())

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)


COST_LINE = Table(
    "cost_line",
    pl.Schema(
        {
            "billing_account_id": STR,
            "billing_account_name": STR,
            "sub_account_id": STR,
            "sub_account_name": STR,
            "provider": STR,
            "invoice_issuer": STR,
            "billing_currency": STR,
            "billing_period_start": TS,
            "billing_period_end": TS,
            "charge_period_start": TS,
            "charge_period_end": TS,
            "charge_category": STR,
            "charge_class": STR,
            "charge_frequency": STR,
            "charge_description": STR,
            "service_name": STR,
            "service_category": STR,
            "region_id": STR,
            "availability_zone": STR,
            "resource_id": STR,
            "resource_name": STR,
            "resource_type": STR,
            "sku_id": STR,
            "pricing_quantity": F64,
            "pricing_unit": STR,
            "consumed_quantity": F64,
            "consumed_unit": STR,
            "list_cost": F64,
            "billed_cost": F64,
            "effective_cost": F64,
            "contracted_cost": F64,
            "commitment_discount_id": STR,
            "commitment_discount_status": STR,
            "tags": MAP,
            # What FOCUS lacks. x_cluster/x_namespace/x_pod are set when the bill itself
            # carries Kubernetes detail (EKS split cost allocation, GKE cost allocation).
            "x_cluster": STR,
            "x_namespace": STR,
            "x_pod": STR,
            # For bill-side pod splits: the instance the split came from. The parent
            # instance row then holds only the unsplit remainder, so the sum of
            # cost_line always equals the invoice (nothing counted twice).
            "x_split_parent_resource_id": STR,
            "x_line_item_type": STR,
            "x_source": STR,
            "x_source_file": STR,
            "x_ingest_run": STR,
            # The exchange rate the export itself carries (migration 0004): 1 unit of
            # pricing_currency (FOCUS 1.2 PricingCurrency; USD for GCP) = this many units of
            # billing_currency (GCP currency_conversion_rate, Azure ExchangeRatePricingToBilling).
            "pricing_currency": STR,
            "x_pricing_exchange_rate": F64,
        }
    ),
    grain=(),  # one row per delivered line; replaced per (x_source, billing_account_id, period)
    days=Days("span", "charge_period_start", "charge_period_end"),
)

# The compacted daily bill (``finops.bill_compact``): ``cost_line_daily`` grouped per day by
# the columns the allocation reads, money summed; only lines the bill split per pod keep their
# hour (truncated to it), every other line's ``charge_period_start`` is null. Derived: every
# load that changes ``cost_line`` rebuilds the days it changed, in its own transaction.
COST_LINE_COMPACT = Table(
    "cost_line_compact",
    pl.Schema({"day": DAY,
               **{name: COST_LINE.schema[name] for name in (
                   "billing_account_id", "sub_account_id", "provider", "service_name",
                   "service_category", "resource_id", "charge_category", "charge_description",
                   "commitment_discount_status", "sku_id", "consumed_unit", "pricing_unit",
                   "x_line_item_type", "x_cluster", "x_namespace", "x_pod",
                   "x_split_parent_resource_id", "tags", "charge_period_start", "billed_cost",
                   "effective_cost", "list_cost")}}),
    grain=(),  # one row per distinct (day, attributes); rebuilt per day
)

K8S_NODE_HOUR = Table(
    "k8s_node_hour",
    pl.Schema(
        {
            "cluster": STR,
            "node": STR,
            "hour": TS,
            "provider_id": STR,
            "instance_type": STR,
            "region": STR,
            "zone": STR,
            "capacity_cpu": F64,
            "capacity_memory": F64,
            "capacity_gpu": F64,
            "allocatable_cpu": F64,
            "allocatable_memory": F64,
            "spot": BOOL,
            "labels": MAP,
            "running_seconds": F64,
            "x_source": STR,
        }
    ),
    grain=("cluster", "node", "hour"),
    days=HOURLY_DAYS,
)

K8S_POD_HOUR = Table(
    "k8s_pod_hour",
    pl.Schema(
        {
            "cluster": STR,
            "namespace": STR,
            "pod": STR,
            "pod_uid": STR,
            "hour": TS,
            "node": STR,
            "workload_kind": STR,
            "workload_name": STR,
            "running_seconds": F64,
            "cpu_request": F64,
            "cpu_usage": F64,
            "memory_request": F64,
            "memory_usage": F64,
            "gpu_request": F64,
            "network_bytes": F64,
            "labels": MAP,
            "workload_labels": MAP,
            "x_source": STR,
        }
    ),
    grain=("cluster", "namespace", "pod_uid", "hour"),
    days=HOURLY_DAYS,
)

K8S_NAMESPACE = Table(
    "k8s_namespace",
    pl.Schema(
        {
            "cluster": STR,
            "namespace": STR,
            "valid_from": TS,
            "valid_to": TS,  # null while current
            "labels": MAP,
            "annotations": MAP,
            "x_source": STR,
        }
    ),
    grain=("cluster", "namespace", "valid_from"),
    days=Days("history", "valid_from", "valid_to"),
)

K8S_QUOTA_HOUR = Table(
    "k8s_quota_hour",
    pl.Schema(
        {
            "cluster": STR,
            "namespace": STR,
            "quota": STR,
            "resource": STR,  # e.g. requests.cpu (cores), requests.memory (bytes)
            "hour": TS,
            "hard": F64,
            "used": F64,
            "x_source": STR,
        }
    ),
    grain=("cluster", "namespace", "quota", "resource", "hour"),
    days=HOURLY_DAYS,
)

K8S_VOLUME_HOUR = Table(
    "k8s_volume_hour",
    pl.Schema(
        {
            "cluster": STR,
            "namespace": STR,  # null for a PV with no claim
            "claim": STR,
            "hour": TS,
            "volume_name": STR,  # the PV name
            "volume_id": STR,  # the cloud disk id (vol-…, gce disk name, azure disk uri)
            "storage_class": STR,
            "size_bytes": F64,
            "mounting_pods": pl.List(pl.String),
            "running_seconds": F64,
            "x_source": STR,
        }
    ),
    grain=("cluster", "volume_name", "hour"),
    days=HOURLY_DAYS,
)

K8S_LB_HOUR = Table(
    "k8s_lb_hour",
    pl.Schema(
        {
            "cluster": STR,
            "namespace": STR,
            "service": STR,
            "hour": TS,
            "ingress": STR,  # load balancer hostname or IP as Kubernetes reports it
            "resource_id": STR,  # the cloud load balancer id when known
            "labels": MAP,
            "running_seconds": F64,
            "x_source": STR,
        }
    ),
    grain=("cluster", "namespace", "service", "hour"),
    days=HOURLY_DAYS,
)

PRICE_CATALOG = Table(
    "price_catalog",
    pl.Schema(
        {
            "provider": STR,
            "region": STR,
            "instance_type": STR,  # EC2 instance type or GCE machine type; null for per-unit SKUs
            "sku_id": STR,
            "resource": STR,  # instance | cpu | ram | gpu | storage
            "unit": STR,  # hour | vcpu-hour | gib-hour | gib-month
            "price": F64,
            "currency": STR,
            "spot": BOOL,
            "effective_from": TS,
            "x_source": STR,
        }
    ),
    grain=("provider", "region", "instance_type", "sku_id", "resource", "spot"),
    days=Days("every"),
)

ALLOCATION = Table(
    "allocation",
    pl.Schema(
        {
            "day": DAY,
            "provider": STR,
            "billing_account_id": STR,
            "sub_account_id": STR,
            "cluster": STR,
            "namespace": STR,
            "workload_kind": STR,
            "workload_name": STR,
            "node": STR,
            "service_name": STR,
            "resource_id": STR,
            "cost_kind": STR,  # one of COST_KINDS
            "team": STR,  # null when unowned
            "owner_rule": STR,  # which ownership rule claimed the row, e.g. namespace-label:team
            "unowned_reason": STR,  # null when owned
            "shared_from": STR,  # for spread rows: the origin (namespace, fee, resource)
            "price_source": STR,  # bill | split-bill | catalog | configured
            "billed_cost": F64,
            "effective_cost": F64,
            "list_cost": F64,
            "run_id": STR,
            # Money in two currencies (migration 0004): billed_cost, effective_cost and
            # list_cost above are in ``currency``, the reporting currency; billing_* are the
            # same amounts as billed, in ``billing_currency``. effective_cost =
            # billing_effective_cost x fx_rate; fx_source says where the rate came from.
            "currency": STR,
            "billing_currency": STR,
            "billing_effective_cost": F64,
            "billing_billed_cost": F64,
            "billing_list_cost": F64,
            "fx_rate": F64,
            "fx_source": STR,
        }
    ),
    grain=(),
)

BACKSTAGE_ENTITY = Table(
    "backstage_entity",
    pl.Schema(
        {
            "ref": STR,  # kind:namespace/name, lower-cased: "component:default/checkout-api"
            "kind": STR,  # Component, Group, User, System, Resource, ...
            "name": STR,
            "owner": STR,  # spec.owner as a team name ("group:default/payments" -> payments)
            "k8s_namespace": STR,  # backstage.io/kubernetes-namespace
            "k8s_id": STR,  # backstage.io/kubernetes-id (matched against workload names)
            "member_of": pl.List(pl.String()),  # a User's spec.memberOf (group names)
            "members": pl.List(pl.String()),  # a Group's spec.members (user names)
            "x_source_file": STR,
        }
    ),
    grain=("ref",),
)

# What the pipeline adds to the engine's rows after the engine (``finops.pipeline.currency``):
# the engine itself is currency-agnostic and never sees these.
CURRENCY_COLUMNS = ("currency", "billing_currency", "billing_effective_cost",
                    "billing_billed_cost", "billing_list_cost", "fx_rate", "fx_source")

FX_RATE = Table(
    "fx_rate",
    pl.Schema(
        {
            "from_currency": STR,
            "to_currency": STR,
            "valid_from": DAY,
            "valid_to": DAY,  # exclusive: a day's rate is valid_from + 1, a month's the 1st
            "rate": F64,  # 1 from_currency = rate to_currency (and 1 / rate the other way)
            "source": STR,  # file:<name> of `finops fx load`
            "x_ingest_run": STR,
        }
    ),
    grain=("from_currency", "to_currency", "valid_from", "valid_to"),
    days=Days("span", "valid_from", "valid_to", allocated_only=True),
)

ALLOCATION_FX = Table(
    "allocation_fx",
    pl.Schema(
        {
            "day": DAY,
            "billing_account_id": STR,  # null for estimates and account-less bill lines
            "priced_by": STR,  # bill | catalog | configured
            "billing_currency": STR,
            "currency": STR,  # the reporting currency
            "fx_rate": F64,  # 1 billing_currency = fx_rate currency
            "fx_source": STR,  # same-currency | export:<source> | finops.yaml | file:<name>
            "run_id": STR,
        }
    ),
    grain=("day", "billing_account_id", "priced_by"),
)

# What the allocation owes: the days each load changed (``finops.changes``), kept until an
# allocation of the day succeeds; and each allocated day with the configuration it was
# allocated with (a day whose configuration differs from today's is allocated again).
CHANGED_DAY = Table(
    "changed_day",
    pl.Schema({"day": DAY, "table_name": STR, "run_id": STR, "marked_at": TS}),
    grain=("day", "table_name", "run_id"),
)

ALLOCATED_DAY = Table(
    "allocated_day",
    pl.Schema({"day": DAY, "run_id": STR, "config_fingerprint": STR, "allocated_at": TS}),
    grain=("day",),
)

# Retention: the first day each table still holds in full (``finops.retention``).
RETENTION = Table(
    "retention",
    pl.Schema({"table_name": STR, "kept_from": DAY, "applied_at": TS}),
    grain=("table_name",),
)

BACKSTAGE_OWNERS = pl.Schema({"kind": STR, "match": STR, "owner": STR})
"""Owners from the Backstage catalog: ``kind`` is ``namespace`` or ``kubernetes-id``,
``match`` the namespace or id the entity annotates, ``owner`` the team (not a warehouse
table: the ownership collector reads it for every allocation run)."""


@dataclass(frozen=True)
class HourlyTable:
    """One hourly Kubernetes usage table, under the names the two sides give it."""

    kind: str  # the collectors' name: samples, assembled frames, stored snapshots
    input: str  # the engine's name: the ``AllocationInputs`` field that holds it
    table: Table


# The registry of the hourly Kubernetes tables: collectors build them, the recorded-usage
# loader and the engine read them; nobody else lists them.
K8S_HOURLY: tuple[HourlyTable, ...] = (
    HourlyTable("node", "nodes", K8S_NODE_HOUR),
    HourlyTable("pod", "pods", K8S_POD_HOUR),
    HourlyTable("quota", "quotas", K8S_QUOTA_HOUR),
    HourlyTable("volume", "volumes", K8S_VOLUME_HOUR),
    HourlyTable("lb", "lbs", K8S_LB_HOUR),
)

COST_KINDS = (
    "cpu",
    "ram",
    "gpu",
    "storage",
    "network",
    "load_balancer",
    "shared",
    "idle",
    "cloud",
    "tax",
    "credit",
    "commitment",
)

UNOWNED_REASONS = (
    "no-team-label",
    "unknown-team",
    "untagged-resource",
    "unmapped-account",
    "unused-commitment",
    "commitment-purchase",
    "unattributed-tax-or-credit",
    "idle-capacity",
    "unmounted-volume",
    "shared-no-tenant",
)

WAREHOUSE_TABLES = (
    COST_LINE,
    COST_LINE_COMPACT,
    K8S_NODE_HOUR,
    K8S_POD_HOUR,
    K8S_NAMESPACE,
    K8S_QUOTA_HOUR,
    K8S_VOLUME_HOUR,
    K8S_LB_HOUR,
    PRICE_CATALOG,
    ALLOCATION,
    BACKSTAGE_ENTITY,
    FX_RATE,
    ALLOCATION_FX,
    CHANGED_DAY,
    ALLOCATED_DAY,
    RETENTION,
)

TABLES_BY_NAME = {table.name: table for table in WAREHOUSE_TABLES}


def conform(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Return ``frame`` with exactly the table's columns, order and types.

    Missing nullable columns are added as nulls; extra columns are an error, because a
    collector that produces a column nobody declared is a collector with a bug.
    """
    extra = [c for c in frame.columns if c not in table.schema]
    if extra:
        raise SchemaMismatch(f"{table.name}: undeclared columns {extra}")
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in table.schema.items()
               if name not in frame.columns]
    frame = frame.with_columns(missing) if missing else frame
    try:
        return frame.select(
            [pl.col(name).cast(dtype) for name, dtype in table.schema.items()]
        )
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        raise SchemaMismatch(f"{table.name}: {exc}") from exc

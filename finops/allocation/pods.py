"""Step 3 (and the idle remainder of step 4): pod cost as a fraction of its node's day.

Per node-hour and resource r, with C_r the node's cost of r that hour:
  pod cost_r = C_r x pod resource-hours_r / node capacity resource-hours_r
where pod resource-hours = allocated x running seconds / 3600 and allocated is, by ``basis``:
``max`` max(request, usage) (either side alone when the other is missing), ``request``,
``usage``, or ``quota``:

  basis ``quota``: a namespace with a ResourceQuota is charged for its quota. For each
  (cluster, namespace, hour) and resource r (cpu from ``requests.cpu``/``cpu``, ram from
  ``requests.memory``/``memory`` in GiB, gpu from ``requests.nvidia.com/gpu``; several quota
  objects in a namespace: the tightest, i.e. the smallest ``hard``), with Q = hard x 1 hour
  and A = the sum of its pods' max(request, usage) resource-hours that hour:
    - pods present and Q > A: each pod's allocated amount is scaled by Q / A (A = 0: the
      namespace's pods share Q equally), so the namespace claims max(A, Q);
    - no pod of the namespace on the cluster that hour: the namespace claims Q from the
      cluster's idle capacity that hour as a namespace-level row (workload empty), taken from
      every node's idle in proportion to its idle resource-hours; when the pod-less claims of
      a cluster-hour exceed its idle capacity they are all scaled by idle / claims;
    - namespaces without a quota (or a resource the quota does not name) fall back to ``max``.
  The claims are then capped like any basis: a node whose pods claim more than it has scales
  all of them by capacity / claimed, so a node's (and so a cluster's) cost is never exceeded
  and idle is never negative.

When pods claim more than the node has, all of them are scaled by capacity / claimed, so the
node's cost is never exceeded; the rest of C_r is idle (never negative).

Everything here is a *fraction of the node-day pool*: pieces of one node-day sum to 1,
so multiplying by the pool's money (bill or estimate) conserves it exactly. Every window and
join includes ``cluster``, so one call handles all clusters of a day at once and equals the
union of per-cluster calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from finops.allocation.nodes import GIB, RESOURCES
from finops.allocation.ownership import OWNER
from finops.allocation.pod_keys import PodFrame
from models.config import FinOpsConfig

POD_GROUP = ["cluster", "node", "namespace", "workload_kind", "workload_name", "pod_value",
             "workload_value", "ns_label_value", "ns_annotation_value"]
NODE_HOUR = ["cluster", "node", "hour"]
NS_HOUR = ["cluster", "namespace", "hour"]
QUOTA_RESOURCES = {
    "requests.cpu": "cpu", "cpu": "cpu",
    "requests.memory": "ram", "memory": "ram",
    "requests.nvidia.com/gpu": "gpu", "nvidia.com/gpu": "gpu",
}


def _amounts(basis: str) -> list[pl.Expr]:
    """Allocated amount and request per resource (cores, GiB, GPUs) for one pod-hour."""
    pairs = {
        "cpu": (pl.col("cpu_request"), pl.col("cpu_usage")),
        "ram": (pl.col("memory_request") / GIB, pl.col("memory_usage") / GIB),
        "gpu": (pl.col("gpu_request"), pl.col("gpu_request")),
    }
    run = pl.col("running_seconds").fill_null(3600.0).clip(0, 3600.0) / 3600
    out = []
    for resource, (request, usage) in pairs.items():
        request = request.fill_nan(None)
        usage = usage.fill_nan(None)
        if basis == "request":
            alloc = request.fill_null(0)
        elif basis == "usage":
            alloc = usage.fill_null(0)
        else:  # max and quota: max(request, usage), either side alone when the other is missing
            alloc = pl.max_horizontal(request, usage).fill_null(0)
        out.append((alloc.clip(0) * run).alias(f"_a_{resource}"))
        out.append((request.fill_null(0).clip(0) * run).alias(f"_q_{resource}"))
    return out


def quota_hard(quotas: pl.DataFrame) -> pl.LazyFrame:
    """Per (cluster, namespace, hour): the tightest hard quota ``_Q_cpu/_Q_ram/_Q_gpu``."""
    mapped = quotas.lazy().with_columns(
        pl.col("resource").replace_strict(QUOTA_RESOURCES, default=None).alias("_r"))
    mapped = mapped.filter(pl.col("_r").is_not_null() & pl.col("hard").is_not_null())
    hard = pl.when(pl.col("_r") == "ram").then(pl.col("hard") / GIB).otherwise(pl.col("hard"))
    return mapped.with_columns(hard.clip(0).alias("_hard")).group_by(NS_HOUR).agg(
        pl.col("_hard").filter(pl.col("_r") == r).min().alias(f"_Q_{r}") for r in RESOURCES)


def _quota_scaled(joined: pl.LazyFrame, quotas: pl.DataFrame) -> pl.LazyFrame:
    """Pods of a namespace under quota claim max(their sum, the quota) (basis ``quota``)."""
    with_q = joined.join(quota_hard(quotas), on=NS_HOUR, how="left")
    exprs = []
    for r in RESOURCES:
        q, a = pl.col(f"_Q_{r}"), pl.col(f"_a_{r}")
        total = a.sum().over(NS_HOUR)
        # a / total is at most 1: q / total first overflows to inf when the pods' sum is
        # subnormal (a usage of 5e-324 cores, found by the property tests), and inf x a tiny
        # share makes the namespace's cost NaN.
        scaled = pl.when(total > 0).then(q * (a / total)).otherwise(q / pl.len().over(NS_HOUR))
        exprs.append(pl.when(q > total).then(scaled).otherwise(a).alias(f"_a_{r}"))
    return with_q.with_columns(exprs).drop([f"_Q_{r}" for r in RESOURCES])


@dataclass(frozen=True)
class Fractions:
    """``pods``: per pod-hour on a known node-hour, ``_pk``, ``hour``, ``_f_r`` (fraction of
    the node-day pool), ``_q_r`` (request-hours) and ``_net`` (traffic). ``hours``: the
    node-hours with what their pods took, ``_uf_r`` (fractions) and ``_uc_r`` (resource-hours
    charged). ``per_key``: ``pods`` summed per pod key. ``complete``: every pod-hour of the
    day is in ``pods`` once (so ``per_key`` also sums the whole day's requests and traffic)."""

    pods: pl.DataFrame
    hours: pl.DataFrame
    per_key: pl.DataFrame
    complete: bool


def _hour_key(origin: int, span: int) -> pl.Expr:
    offset = pl.col("hour").dt.epoch("us") - origin
    return (pl.col("_nid").cast(pl.Int64) * span + offset).alias("_k")


def _on_node_hours(pods: PodFrame, hours: pl.DataFrame) -> pl.DataFrame:
    """(``_row`` of a pod-hour in ``pods.facts``, ``_nh`` of its node-hour), in facts order.
    The string join is done per pod and per node; the pod-hours join on one integer,
    node id x span + microseconds since the first hour (exact: no two keys can meet)."""
    ids = hours.select("cluster", "node").unique().with_row_index("_nid")
    pod_nodes = pods.attrs.select("_pk", "cluster", "node").join(ids, on=["cluster", "node"])
    facts = pods.facts.select("_pk", "hour").with_row_index("_row").join(
        pod_nodes.select("_pk", "_nid"), on="_pk", maintain_order="left")
    node_hours = hours.select("cluster", "node", "hour", "_nh").join(ids, on=["cluster", "node"])
    stamps = pl.concat([facts.get_column("hour"), node_hours.get_column("hour")]).drop_nulls()
    if not stamps.len():
        return pl.DataFrame(schema={"_row": pl.UInt32, "_nh": pl.UInt32})
    micros = stamps.dt.epoch("us")
    origin, span = int(micros.min()), int(micros.max()) - int(micros.min()) + 1  # type: ignore[arg-type]
    if span * (ids.height + 1) >= 2**62:
        raise ValueError(f"pod-hours over {span / 3.6e9:.0f} hours: too long for one pass")
    left = facts.select("_row", _hour_key(origin, span))
    right = node_hours.select(_hour_key(origin, span), "_nh")
    return left.join(right, on="_k", maintain_order="left").select("_row", "_nh")


TRAFFIC = pl.col("network_bytes").fill_null(0).clip(0).alias("_net")


def _matched_amounts(pods: PodFrame, hours: pl.DataFrame,
                     basis: str) -> tuple[pl.DataFrame, bool]:
    """(each pod-hour on a known node-hour with ``_nh`` and its amounts, whether that is
    every pod-hour once, in order). In that usual case no pod column is copied."""
    pairs = _on_node_hours(pods, hours)
    rows = pairs.get_column("_row")
    facts = pods.facts
    aligned = pairs.height == facts.height and bool(
        (rows == pl.int_range(facts.height, eager=True, dtype=pl.UInt32)).all())
    matched = facts if aligned else facts[rows]
    amounts = matched.select("_pk", "hour", *_amounts(basis), TRAFFIC)
    return amounts.with_columns(pairs.get_column("_nh")), aligned


def pod_fractions(pods: PodFrame, hours: pl.DataFrame, quotas: pl.DataFrame,
                  config: FinOpsConfig) -> Fractions:
    """Per node-hour and resource, what a pod-hour's allocated amount is worth as a fraction
    of the node-day pool (``_g_r``, capped so the node is never exceeded), times its amount."""
    basis = config.allocation.basis
    amounts, complete = _matched_amounts(pods, hours, basis)
    if basis == "quota" and quotas.height:
        amounts = _quota_scaled(amounts.lazy().join(pods.attrs_of("cluster", "namespace"),
                                                    on="_pk"), quotas).collect()
    claims = _summed(amounts, "_nh", [pl.col(f"_a_{r}").sum().alias(f"_cl_{r}")
                                      for r in RESOURCES])
    # ``hours`` is numbered by ``_nh``, and the left join keeps its order: row i is _nh i.
    per_hour = hours.join(claims, on="_nh", how="left", maintain_order="left").with_columns(
        _node_hour_factors())
    nh = amounts.get_column("_nh")
    fractions = amounts.select(
        "_pk", "hour", *[f"_q_{r}" for r in RESOURCES], "_net",
        *[(pl.col(f"_a_{r}") * per_hour.get_column(f"_g_{r}").gather(nh)).alias(f"_f_{r}")
          for r in RESOURCES])
    sums = [pl.col(f"_{x}_{r}").sum() for x in ("f", "q") for r in RESOURCES]
    per_key = _summed(fractions, "_pk", [*sums, pl.col("_net").sum()])
    return Fractions(fractions, per_hour, per_key, complete)


def _summed(frame: pl.DataFrame, key: str, sums: list[pl.Expr]) -> pl.DataFrame:
    """``frame`` grouped by ``key``: Polars' streaming engine groups a day of pod-hours
    (~1M rows) at half the CPU of the in-memory one."""
    return frame.lazy().group_by(key).agg(sums).collect(engine="streaming")


def _node_hour_factors() -> list[pl.Expr]:
    """Per node-hour and resource r, with claims cl and capacity cap (resource-hours): the
    share of what pods claim that they are charged, min(1, cap / cl) (0 with no capacity);
    ``_g_r``, the pool fraction one claimed resource-hour is worth; and what all its pods
    took, ``_uf_r`` (fractions) and ``_uc_r`` (resource-hours)."""
    out = []
    for r in RESOURCES:
        claimed, capacity = pl.col(f"_cl_{r}").fill_null(0), pl.col(f"_rh_{r}")
        charged = pl.when(capacity <= 0).then(0.0).when(claimed > capacity).then(
            capacity / claimed).otherwise(1.0)
        worth = pl.when(capacity > 0).then(pl.col("_h") * pl.col(f"_s_{r}") * charged / capacity
                                           ).otherwise(0.0)
        out += [worth.alias(f"_g_{r}"), (worth * claimed).alias(f"_uf_{r}"),
                (charged * claimed).alias(f"_uc_{r}")]
    return out


def present_namespaces(fractions: Fractions, pods: PodFrame) -> pl.LazyFrame:
    """(cluster, namespace, hour) with a pod on a known node."""
    keys = fractions.pods.lazy().select("_pk", "hour").unique()
    return keys.join(pods.attrs_of("cluster", "namespace"), on="_pk").select(NS_HOUR).unique()


def idle_hours(fractions: Fractions) -> pl.LazyFrame:
    """Per node-hour: idle fraction ``r`` and idle resource-hours ``_u_r`` per resource,
    and ``unsplit`` (a node with no capacity figures: the whole hour is idle)."""
    idle = [(pl.col("_h") * pl.col(f"_s_{r}") - pl.col(f"_uf_{r}")).clip(0).alias(r)
            for r in RESOURCES]
    units = [(pl.col(f"_rh_{r}") - pl.col(f"_uc_{r}")).clip(0).alias(f"_u_{r}")
             for r in RESOURCES]
    unsplit = pl.when(pl.sum_horizontal([f"_s_{r}" for r in RESOURCES]) <= 0).then(
        pl.col("_h")).otherwise(0.0).alias("unsplit")
    return fractions.hours.lazy().select(*NODE_HOUR, *idle, *units, unsplit)


def idle_fractions(idle: pl.LazyFrame) -> pl.DataFrame:
    """Per node and resource: the node-day fraction no pod claimed (>= 0 by the scaling)."""
    per_node = idle.group_by("cluster", "node").agg(pl.col(*RESOURCES, "unsplit").sum())
    long = per_node.unpivot(index=["cluster", "node"], variable_name="resource",
                            value_name="_f")
    return long.filter(pl.col("_f") > 0).collect()


def quota_claims(idle: pl.LazyFrame, present: pl.LazyFrame,
                 quotas: pl.DataFrame) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Basis ``quota``, namespaces with no pod that hour: (idle left, namespace pieces).

    Pieces: (cluster, node, namespace, hour, resource, _f): each claim taken from every
    node's idle of its cluster-hour in proportion to the node's idle resource-hours.
    """
    claims = quota_hard(quotas).join(present, on=NS_HOUR, how="anti")
    long = claims.unpivot(index=NS_HOUR, on=[f"_Q_{r}" for r in RESOURCES],
                          variable_name="resource", value_name="_Q")
    long = long.with_columns(pl.col("resource").str.slice(3)).filter(pl.col("_Q") > 0)
    units = idle.unpivot(index=NODE_HOUR, on=[f"_u_{r}" for r in RESOURCES],
                         variable_name="resource", value_name="_u").with_columns(
        pl.col("resource").str.slice(3))
    fracs = idle.unpivot(index=NODE_HOUR, on=list(RESOURCES), variable_name="resource",
                         value_name="_i")
    nodes = units.join(fracs, on=[*NODE_HOUR, "resource"]).filter(pl.col("_u") > 0)
    keys = ["cluster", "hour", "resource"]
    supply = nodes.group_by(keys).agg(pl.col("_u").sum().alias("_U"))
    demand = long.group_by(keys).agg(pl.col("_Q").sum().alias("_C"))
    # Fraction of every node's idle taken at that cluster-hour (<= 1: idle never negative).
    taken = supply.join(demand, on=keys).with_columns(
        pl.min_horizontal(pl.lit(1.0), pl.col("_C") / pl.col("_U")).alias("_t"))
    node_take = nodes.join(taken, on=keys).with_columns(
        (pl.col("_i") * pl.col("_t")).alias("_take"))
    pieces = node_take.join(long, on=keys).select(
        "cluster", "node", "namespace", "hour", "resource",
        (pl.col("_take") * (pl.col("_Q") / pl.col("_C"))).alias("_f")).collect()
    took = node_take.group_by(NODE_HOUR).agg(
        pl.col("_take").filter(pl.col("resource") == r).sum().alias(f"_k_{r}")
        for r in RESOURCES)
    left = idle.join(took, on=NODE_HOUR, how="left").with_columns(
        (pl.col(r) - pl.col(f"_k_{r}").fill_null(0)).clip(0).alias(r) for r in RESOURCES)
    return left.drop([f"_k_{r}" for r in RESOURCES]), pieces


def pod_pieces(fractions: Fractions, pods: PodFrame) -> pl.DataFrame:
    """Pod fractions summed to (node, workload, ownership inputs and owner, resource): per key
    over the pod-hours (``per_key``), then per group over the keys. ``pods.attrs`` carry
    their owners (``ownership.OWNER``)."""
    aggs = [pl.col(f"_{x}_{r}").sum() for x in ("f", "q") for r in RESOURCES]
    group = [*POD_GROUP, *OWNER]  # the attrs' owners, resolved once per key
    grouped = fractions.per_key.lazy().join(pods.attrs_of(*group), on="_pk").group_by(
        group).agg(aggs)
    parts = [grouped.select(*group, pl.lit(r).alias("resource"), pl.col(f"_f_{r}").alias("_f"),
                            pl.col(f"_q_{r}").alias("_req")) for r in RESOURCES]
    long = pl.concat(parts)
    return long.filter((pl.col("_f") > 0) | (pl.col("_req") > 0)).collect()

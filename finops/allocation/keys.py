"""Match keys: one normal form for node provider IDs, disk IDs and load balancers on both the
Kubernetes side and the bill side, so matching is a plain equi-join.

- AWS: ``aws:///us-east-1a/i-0abc`` and ``i-0abc`` (or an ARN ending in it) -> ``aws:i-0abc``.
- GCP: ``gce://P/Z/NAME`` -> ``gce:P/Z/NAME`` and ``gce:NAME``; the bill's
  ``//compute.googleapis.com/projects/P/zones/Z/instances/NAME`` -> ``gce:P/Z/NAME`` and a bare
  ``NAME`` on a Google line -> ``gce:NAME``.
- Azure (case-insensitive): ``azure:///subscriptions/…/virtualMachines/N`` ->
  ``az:/subscriptions/…``;
  scale-set instances also get the scale set's key, because Azure bills a scale set as one
  resource (that line is then shared by the scale set's nodes).
- Anything else: ``raw:<lower-cased id>``.
"""

from __future__ import annotations

import polars as pl

_GCE_FULL = r"projects/([^/]+)/zones/([^/]+)/instances/([^/]+)$"


def _prefixed(prefix: str, expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.is_not_null()).then(pl.lit(prefix) + expr)


def node_keys(provider_id: pl.Expr) -> pl.Expr:
    """All keys a node can be billed under, as a list (explode it to join)."""
    pid = provider_id.str.to_lowercase()
    return pl.concat_list(
        _prefixed("aws:", pid.str.extract(r"^aws://.*/(i-[0-9a-z]+)$")),
        _prefixed("gce:", pid.str.extract(r"^gce://([^/]+/[^/]+/[^/]+)$")),
        _prefixed("gce:", pid.str.extract(r"^gce://[^/]+/[^/]+/([^/]+)$")),
        _prefixed("az:", pid.str.extract(r"^azure://(/subscriptions/.*)$")),
        _prefixed("az:", pid.str.extract(
            r"^azure://(/subscriptions/.*/virtualmachinescalesets/[^/]+)/virtualmachines/[^/]+$")),
        _prefixed("raw:", pid),
    ).list.drop_nulls()


def bill_key(resource_id: pl.Expr, provider: pl.Expr) -> pl.Expr:
    """The one key a bill line's resource ID matches a node under."""
    rid = resource_id.str.to_lowercase()
    google = provider.str.to_lowercase().str.contains("google|gcp")
    gce_full = rid.str.extract_groups(_GCE_FULL)
    return pl.coalesce(
        _prefixed("aws:", rid.str.extract(r"(?:^|[/:])(i-[0-9a-f]{8,17})$")),
        pl.when(rid.str.contains(_GCE_FULL)).then(
            pl.concat_str([pl.lit("gce:"), gce_full.struct.field("1"), pl.lit("/"),
                           gce_full.struct.field("2"), pl.lit("/"), gce_full.struct.field("3")])),
        pl.when(google & ~rid.str.contains("/")).then(pl.lit("gce:") + rid),
        pl.when(rid.str.starts_with("/subscriptions/")).then(pl.lit("az:") + rid),
        _prefixed("raw:", rid),
    )


def disk_key(volume_id: pl.Expr) -> pl.Expr:
    """EBS ``vol-…`` (bare or in an ARN), GCE ``…/disks/NAME``, else the lower-cased ID."""
    vid = volume_id.str.to_lowercase()
    return pl.coalesce(
        _prefixed("vol:", vid.str.extract(r"(vol-[0-9a-f]+)$")),
        _prefixed("disk:", vid.str.extract(r"/disks/([^/]+)$")),
        _prefixed("raw:", vid),
    )


def lb_keys(resource_id: pl.Expr, ingress: pl.Expr) -> pl.Expr:
    """Keys a LoadBalancer service can be billed under: its cloud ID, ingress, ELB name."""
    return pl.concat_list(
        _prefixed("raw:", resource_id.str.to_lowercase()),
        _prefixed("raw:", ingress.str.to_lowercase()),
        _prefixed("elb:", ingress.str.to_lowercase().str.extract(
            r"^(?:internal-)?([a-z0-9-]+)-[0-9a-f]+\.(?:[a-z0-9-]+\.)?elb\.")),
    ).list.drop_nulls().list.unique()


def bill_lb_key(resource_id: pl.Expr) -> pl.Expr:
    rid = resource_id.str.to_lowercase()
    return pl.coalesce(
        _prefixed("elb:", rid.str.extract(r":loadbalancer/(?:net/|app/)?([^/]+)")),
        _prefixed("raw:", rid),
    )

"""AWS Cost and Usage Reports (legacy CUR and CUR 2.0 Data Exports) -> ``cost_line``.

Accepted layouts (keys below the URI: ``s3://bucket/prefix`` through boto3, or a local
directory holding the same tree; every delivery found below the URI is loaded)::

    # legacy CUR (csv.gz, csv or Parquet chunks; names taken from the manifest's reportKeys)
    <prefix>/<report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json            (preferred)
    <prefix>/<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-Manifest.json
    <prefix>/<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-<N>.csv.gz

    # CUR 2.0 Data Exports (Parquet or csv.gz; optional <executionId>/ level under both)
    <prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/[<executionId>/]<export>-00001.snappy.parquet
    <prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/[<executionId>/]<export>-Manifest.json

    # no manifest at all: the CUR data files (.parquet/.csv/.csv.gz) below the URI, or the
    # URI is one such file

The CUR 2.0 manifest is JSON; ``dataFiles`` (``s3://bucket/key`` or bucket keys) names the
data files; without it every data file under the matching ``data/BILLING_PERIOD=…/``
(and execution id) folder is read. ``{}`` is a valid manifest. Legacy manifests need
``reportKeys``. Keys are bucket keys; for a local directory the longest key tail that
exists below it is used. Per report/export and billing period only the newest delivery
is read (legacy: the period-level manifest, else the newest assembly manifest; CUR 2.0:
the newest manifest), and it *replaces* what the warehouse holds for
(x_source='aws-cur', billing_account_id, billing_period_start), atomically: one streamed
``INSERT`` of the mapping (``delivery_loads``, no staging copy). Files of a local
directory are read in place; S3 objects are downloaded to a work directory first.

Columns: CUR 2.0 snake_case; legacy ``category/Name`` is converted to it
(``lineItem/UnblendedCost`` -> ``line_item_unblended_cost``). Required:
``bill_payer_account_id, bill_billing_period_start_date, bill_billing_period_end_date,
line_item_usage_account_id, line_item_line_item_type, line_item_usage_start_date,
line_item_usage_end_date, line_item_unblended_cost, line_item_currency_code``. Tags:
CUR 2.0 ``resource_tags`` map keys unchanged; legacy ``resourceTags/user:team`` -> ``user:team``.

Money (billing-formats.md §2.1; t = line_item_line_item_type, UC = line_item_unblended_cost):

=========================  ==========  ====================================================
t                          category    effective_cost (amortized)
=========================  ==========  ====================================================
Usage                      Usage       UC
DiscountedUsage            Usage       reservation_effective_cost          (status Used)
SavingsPlanCoveredUsage    Usage       savings_plan_savings_plan_effective_cost (Used)
SavingsPlanNegation        Usage       0
SavingsPlanUpfrontFee      Purchase    0
SavingsPlanRecurringFee    Purchase    0 on the fee row, plus one extra row (Usage, status
                                       Unused, resource = SP ARN, billed 0) carrying
                                       total_commitment_to_date - used_commitment
RIFee                      Purchase    0 on the fee row, plus one Unused row carrying
                                       unused_amortized_upfront_fee_for_billing_period
                                       + unused_recurring_fee (resource = RI ARN)
Fee                        Purchase    0 if reservation_reservation_a_r_n set, else UC
Tax                        Tax         UC
Credit                     Credit      UC
Refund                     Credit      UC   (charge_class 'Correction')
*Discount (Edp, Bundled…)  Usage       UC
anything else              Adjustment  UC
=========================  ==========  ====================================================

billed_cost = UC on every delivered row (so SUM(billed_cost) = SUM(UC) = the invoice);
list_cost = pricing_public_on_demand_cost; contracted_cost = UC. The net_* columns are
not used. Unused commitment therefore stays visible as ``commitment_discount_status =
'Unused'`` rows (no workload owns them: unowned spend, reason unused-commitment).

EKS/ECS split cost allocation: a row with line_item_operation EKSPod-EC2/ECSTask-EC2 and a
``split_line_item_parent_resource_id`` is a pod row. Its own UC is ignored (the instance row
carries the instance's cost). Per (instance id, usage hour): P = the instance rows
(Usage/DiscountedUsage/SavingsPlanCoveredUsage, RunInstances*, resource ``i-…``), each pod
gets r = (split_cost + unused_cost) / effective(P) of P's billed, effective and list cost,
and every instance row is scaled by (1 - sum r): nothing is counted twice and the SUM still
equals the invoice. Pod rows get x_cluster/x_namespace/x_pod from the pod ARN
(``arn:aws:eks:<region>:<acct>:pod/<cluster>/<namespace>/<pod>/<uid>``) and
x_split_parent_resource_id = the instance id. A pod whose instance row is absent gets 0.
resource_id of EC2 rows is the instance id ``i-…`` as AWS delivers it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from ingestion.billing import aws_cur_sql as q
from ingestion.billing.aws_cur_checks import build_source
from ingestion.billing.manifests import CUR2
from ingestion.billing.s3 import ObjectRef, ObjectStore, local_copy, resolve_listed
from models.errors import InputError
from models.loads import IngestRun, Load, Replace, file_checksum, quiet
from models.schemas import COST_LINE

SOURCE = "aws-cur"
DATA_SUFFIXES = (".parquet", ".csv", ".csv.gz")
LEGACY = re.compile(
    r"^(?P<base>(?:.*/)?)(?P<period>\d{8}-\d{8})/(?:(?P<asm>[^/]+)/)?"
    r"(?P<name>[^/]+)-Manifest\.json$"
)
Notify = Callable[[str], None]


@dataclass
class Delivery:
    """One delivery of one billing period: its manifest (if any) and data file keys."""

    kind: str  # legacy | cur2 | files
    period: str  # 20180801-20180901, 2026-10, or '' for bare files
    manifest: str | None
    keys: list[str]
    window: tuple[datetime | None, datetime | None] = (None, None)
    files: dict[str, str] = field(default_factory=dict)  # local path -> source URI
    checksum: str | None = None  # sha256 of the manifest: it names the delivery's files


# -- discovery ------------------------------------------------------------------------------
def discover(store: ObjectStore, prefix: str) -> list[Delivery]:
    """The newest delivery of every (report, billing period) found below ``prefix``."""
    objects = store.list(prefix)
    newest: dict[tuple[str, ...], tuple[tuple[bool, datetime, str], ObjectRef, re.Match[str]]] = {}
    for obj in objects:
        for kind, pattern in (("cur2", CUR2), ("legacy", LEGACY)):
            match = pattern.match(obj.key)
            if match:
                group = (kind, match["base"], match["name"], match["period"])
                rank = (match["asm"] is None and kind == "legacy", obj.modified, obj.key)
                if group not in newest or rank > newest[group][0]:
                    newest[group] = (rank, obj, match)
                break
    deliveries = [
        _read_manifest(store, group[0], obj, match, objects)
        for group, (_, obj, match) in sorted(newest.items())
    ]
    if not deliveries:
        keys = [o.key for o in objects if o.key.endswith(DATA_SUFFIXES)]
        deliveries = [Delivery("files", "", None, keys)] if keys else []
    return deliveries


def _read_manifest(
    store: ObjectStore, kind: str, obj: ObjectRef, match: re.Match[str], objects: list[ObjectRef]
) -> Delivery:
    try:
        raw = store.read(obj.key)
        manifest = json.loads(raw)
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise InputError(f"{store.uri(obj.key)}: manifest is not valid JSON ({exc})") from None
    listed = manifest.get("reportKeys" if kind == "legacy" else "dataFiles")
    if listed is None and kind == "cur2":
        folder = f"{match['base']}data/BILLING_PERIOD={match['period']}/"
        folder += f"{match['asm']}/" if match["asm"] else ""
        listed = [
            o.key for o in objects if o.key.startswith(folder) and o.key.endswith(DATA_SUFFIXES)
        ]
    if not listed:
        raise InputError(f"{store.uri(obj.key)}: manifest names no data files")
    known = {o.key for o in objects}
    keys = list(dict.fromkeys(resolve_listed(store.resolve(str(k)), known) for k in listed))
    return Delivery(kind, match["period"], obj.key, keys, _window(match["period"]),
                    checksum=hashlib.sha256(raw).hexdigest())


def _window(period: str) -> tuple[datetime | None, datetime | None]:
    if "-" in period and len(period) == 17:
        start, end = period.split("-")
        return datetime.strptime(start, "%Y%m%d"), datetime.strptime(end, "%Y%m%d")
    start_dt = datetime.strptime(period, "%Y-%m")
    year, month = divmod(start_dt.month, 12)
    return start_dt, start_dt.replace(year=start_dt.year + year, month=month + 1)


# -- staging: download and check ------------------------------------------------------------
def stage(store: ObjectStore, delivery: Delivery, tmp: Path, notify: Notify,
          con: duckdb.DuckDBPyConnection) -> list[Path]:
    """Download every data file into ``tmp``; drop byte-identical duplicates.

    Files of a local directory are read in place (no copy). Duplicates are found by size
    first: only files of the same size are hashed (a 10M-line month is not read twice).
    CSV chunks are parsed once, as text, into a Parquet copy: every later check and the load
    scan that copy (parsing a wide CSV is the expensive part, and it happens once).
    """
    fetched: list[tuple[Path, str]] = []
    for index, key in enumerate(delivery.keys):
        uri = store.uri(key)
        notify(uri)
        path = local_copy(store, key, tmp / f"{index:05d}-{Path(key).name}")
        _check_bytes(path, uri)
        fetched.append((path, uri))
    paths: list[Path] = []
    for index, (path, uri, first) in enumerate(_distinct(fetched)):
        if first is not None:
            notify(f"skipped {uri}: same content as {first} (duplicate delivery)")
            continue
        if not path.name.endswith(".parquet"):
            path = _csv_to_parquet(con, path, uri, tmp / f"{index:05d}-{path.name}.parquet")
        delivery.files[str(path)] = uri
        paths.append(path)
    return paths


def _distinct(fetched: list[tuple[Path, str]]) -> list[tuple[Path, str, str | None]]:
    """Each file with the URI of an earlier byte-identical file (or None), in order."""
    by_size: dict[int, int] = {}
    for path, _ in fetched:
        size = path.stat().st_size
        by_size[size] = by_size.get(size, 0) + 1
    seen: dict[str, str] = {}
    out: list[tuple[Path, str, str | None]] = []
    for path, uri in fetched:
        if by_size[path.stat().st_size] == 1:
            out.append((path, uri, None))
            continue
        digest = file_checksum([path])
        out.append((path, uri, seen.get(digest)))
        seen.setdefault(digest, uri)
    return out


def _csv_to_parquet(con: duckdb.DuckDBPyConnection, path: Path, uri: str, target: Path) -> Path:
    source = (f"read_csv({q.quote(str(path))}, header=true, all_varchar=true, "
              "delim=',', quote='\"', escape='\"')")
    try:
        con.execute(f"COPY (SELECT * FROM {source}) TO {q.quote(str(target))} (FORMAT parquet)")
    except duckdb.Error as exc:
        raise InputError(f"{uri}: not a readable CUR CSV ({exc})") from None
    if path.parent == target.parent:  # a downloaded copy (never a file read in place)
        path.unlink()
    return target


def _check_bytes(path: Path, uri: str) -> None:
    if not path.name.endswith(DATA_SUFFIXES):
        raise InputError(f"{uri}: unsupported CUR file type (expected .parquet, .csv, .csv.gz)")
    if path.stat().st_size == 0:
        raise InputError(f"{uri}: empty file (0 bytes)")
    if path.name.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as handle:
                while handle.read(1 << 22):
                    pass
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(f"{uri}: truncated or corrupt gzip ({exc})") from None


# -- loads ---------------------------------------------------------------------------------
def delivery_loads(
    store: ObjectStore,
    prefix: str,
    workdir: Path,
    *,
    period: str | None = None,
    notify: Notify | None = None,
) -> list[Load]:
    """A load of every delivery below ``prefix``, all checked before any is returned. Their
    files are downloaded into ``workdir`` (or read in place), which must outlive the loads."""
    say = notify or (lambda _msg: None)
    deliveries = [d for d in discover(store, prefix) if period is None or _in(d, period)]
    if not deliveries:
        raise InputError(f"{store.uri(prefix)}: no CUR manifest or data file found")
    con = quiet(duckdb.connect())
    try:
        staged = [_prepare(store, d, workdir, con, say) for d in deliveries]
        return [_load(con, delivery, source) for delivery, source in staged]
    finally:
        con.close()


def _in(delivery: Delivery, period: str) -> bool:
    start = delivery.window[0]
    return start is None or start.strftime("%Y-%m") == period


def _prepare(store: ObjectStore, delivery: Delivery, workdir: Path,
             con: duckdb.DuckDBPyConnection, say: Notify) -> tuple[Delivery, q.Source]:
    folder = workdir / f"d{len(list(workdir.iterdir())):04d}"
    folder.mkdir()
    paths = stage(store, delivery, folder, say, con)
    return delivery, build_source(con, delivery.manifest or "delivery", paths, delivery.files)


def _load(con: duckdb.DuckDBPyConnection, delivery: Delivery, source: q.Source) -> Load:
    """One streamed INSERT of the mapping into the delivery's partitions (no staging copy):
    the partitions are read here, from the same expressions, so the load deletes exactly
    them. The run's checksum is the manifest's (the data files are not hashed again: a
    10M-line month is read once, by the load)."""
    run = IngestRun.begin(SOURCE, source.files.values(), *delivery.window,
                          checksum=delivery.checksum)
    where, params = _partitions(con.execute(q.partition_keys(source)))
    return Load(run, [Replace(COST_LINE, q.select(source, run.run_id), where, params)])


def _partitions(cursor: duckdb.DuckDBPyConnection) -> tuple[str, dict[str, Any]]:
    """A WHERE matching each key tuple the cursor yields (NULL keys too), with its params."""
    names = [d[0] for d in cursor.description or []]
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for i, key in enumerate(cursor.fetchall()):
        params |= {f"k{i}_{j}": value for j, value in enumerate(key)}
        clauses.append(" AND ".join(f'"{name}" IS NOT DISTINCT FROM $k{i}_{j}'
                                    for j, name in enumerate(names)))
    return " OR ".join(f"({c})" for c in clauses) or "false", params

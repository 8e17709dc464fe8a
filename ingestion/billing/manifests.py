"""Export manifests: which data files make up one delivery, which export it belongs to, and
how new it is. Each reader turns one manifest object into a ``Delivery``
(``ingestion.billing.deliveries``).

AWS Data Exports (CUR 2.0 and the FOCUS 1.x tables share the layout; AWS "Understanding
export delivery", dataexports-export-delivery.html)::

    <prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/[<executionId>/]<export>-Manifest.json
    <prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/[<executionId>/]<export>-00001.csv.gz

The ``<executionId>/`` level is how "create new export versions" keeps every delivery side
by side (each refresh its own folder); "overwrite" rewrites one manifest. The manifest's
``dataFiles`` (``s3://bucket/key``) are the delivery (without them: the data files of the
matching data folder, as ``aws_cur`` reads CUR 2.0); ``exportArn`` names the export (else
its folder); ``deliveryTimestamp`` orders deliveries (else the object's modification time).

Azure Cost Management exports (microsoft/finops-toolkit docs-mslearn/toolkit/hubs/
data-processing.md "About exports", API 2023-07-01-preview; ``manifestVersion`` 2024-04-01
adds ``byteCount``/``blobCount``/``dataRowCount``)::

    <root>/<export>/<YYYYMMDD-YYYYMMDD>/<run>/part_0_0001.csv[.gz] | .parquet, manifest.json

with ``exportConfig{exportName, resourceId, type, …}``, ``runInfo{runId, submittedTime,
startDate, endDate}`` and ``blobs[{blobName, byteCount}]`` (container-relative names). Every
run lands in its own folder and restates the month: a run is a delivery of the month its
``runInfo.startDate`` falls in, ordered by ``submittedTime``; the export is
``exportConfig.resourceId`` (else ``exportName``). ``byteCount`` is checked against the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ingestion.billing.s3 import ObjectRef, ObjectStore, resolve_listed
from models.errors import InputError
from models.loads import RunDelivery

CUR2 = re.compile(
    r"^(?P<base>(?:.*/)?)metadata/BILLING_PERIOD=(?P<period>\d{4}-\d{2})/"
    r"(?:(?P<asm>[^/]+)/)?(?P<name>[^/]+)-Manifest\.json$"
)
AZURE_MANIFEST = "manifest.json"
_DATE_RANGE = re.compile(r"/(\d{4})(\d{2})\d{2}-\d{8}/")


@dataclass(frozen=True)
class Part:
    """One data file of a delivery: the store holding it, its key there, its URI, and its
    size in bytes when the manifest says."""

    store: ObjectStore
    key: str
    uri: str
    size: int | None = None


@dataclass
class Delivery:
    """Files that belong together: one delivery of one export (or loose files given together).

    ``period`` is the billing period the layout names (``YYYY-MM``; '' when only the data
    will tell); deliveries of one ``export`` and period are ordered by ``version`` (UTC ISO).
    """

    kind: str  # aws-data-export | azure-export | shards | files
    export: str | None
    version: str | None
    label: str
    parts: list[Part]
    period: str = ""
    manifest: str | None = None
    manifest_sha: str | None = None

    def record(self) -> RunDelivery:
        return RunDelivery(self.kind, self.export, self.version, self.manifest)

    @property
    def group(self) -> tuple[str, str, str] | None:
        """What newer deliveries supersede: (kind, export, period), or None (no identity)."""
        if self.export is None or not self.period:
            return None
        return self.kind, self.export, self.period


def iso_utc(value: str | datetime | None) -> str | None:
    """A time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (so versions compare as text);
    naive times are UTC; None or an unreadable text gives None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())  # Azure writes 7 digits
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def read_manifest(store: ObjectStore, key: str) -> tuple[dict[str, Any], str]:
    """The manifest as a JSON object and the sha256 of its bytes."""
    raw = store.read(key)
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"{store.uri(key)}: manifest is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{store.uri(key)}: manifest is not a JSON object")
    return manifest, hashlib.sha256(raw).hexdigest()


def aws_delivery(store: ObjectStore, obj: ObjectRef, match: re.Match[str],
                 objects: list[ObjectRef]) -> Delivery:
    """The delivery an AWS Data Exports manifest describes."""
    manifest, sha = read_manifest(store, obj.key)
    uri = store.uri(obj.key)
    listed = manifest.get("dataFiles")
    if listed is None:
        folder = f"{match['base']}data/BILLING_PERIOD={match['period']}/"
        folder += f"{match['asm']}/" if match["asm"] else ""
        listed = [o.key for o in objects if o.key.startswith(folder) and "Manifest" not in o.key]
    if not isinstance(listed, list) or not listed:
        raise InputError(f"{uri}: manifest names no data files")
    known = {o.key for o in objects}
    keys = dict.fromkeys(resolve_listed(store.resolve(str(k)), known) for k in listed)
    export = manifest.get("exportArn") or store.uri(f"{match['base']}{match['name']}")
    version = iso_utc(manifest.get("deliveryTimestamp")) or iso_utc(obj.modified)
    return Delivery("aws-data-export", str(export), version, uri,
                    [Part(store, k, store.uri(k)) for k in keys], match["period"], uri, sha)


def azure_delivery(store: ObjectStore, obj: ObjectRef, objects: list[ObjectRef]) -> Delivery:
    """The delivery (one export run) an Azure Cost Management ``manifest.json`` describes."""
    manifest, sha = read_manifest(store, obj.key)
    uri = store.uri(obj.key)
    blobs = manifest.get("blobs")
    if not isinstance(blobs, list) or not blobs:
        raise InputError(f"{uri}: manifest lists no blobs")
    known = {o.key for o in objects}
    parts = [_azure_part(store, blob, known, obj.key) for blob in blobs]
    config = _object(manifest, "exportConfig")
    run = _object(manifest, "runInfo")
    export = config.get("resourceId") or config.get("exportName")
    version = iso_utc(run.get("submittedTime")) or iso_utc(obj.modified)
    return Delivery("azure-export", str(export).lower() if export else None, version, uri,
                    parts, _azure_period(run, obj.key), uri, sha)


def _object(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    value = manifest.get(name)
    return value if isinstance(value, dict) else {}


def _azure_part(store: ObjectStore, blob: Any, known: set[str], manifest: str) -> Part:
    """A listed blob: its container-relative name as found below the URI, else the file of
    that name beside the manifest (the run folder itself was given)."""
    name = blob.get("blobName") if isinstance(blob, dict) else None
    if not isinstance(name, str) or not name:
        raise InputError(f"{store.uri(manifest)}: a blob without blobName ({blob!r})")
    key = resolve_listed(store.resolve(name.lstrip("/")), known)
    beside = f"{manifest.rpartition('/')[0]}/{name.rpartition('/')[2]}".lstrip("/")
    if key not in known and beside in known:
        key = beside
    size = blob.get("byteCount")
    return Part(store, key, store.uri(key), int(size) if isinstance(size, int) else None)


def _azure_period(run: dict[str, Any], key: str) -> str:
    """``YYYY-MM`` of ``runInfo.startDate``, else of the ``YYYYMMDD-YYYYMMDD`` folder."""
    start = iso_utc(run.get("startDate"))
    if start:
        return start[:7]
    found = _DATE_RANGE.search(f"/{key}")
    return f"{found[1]}-{found[2]}" if found else ""

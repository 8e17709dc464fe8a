"""Bills as providers deliver them, for the delivery tests: FOCUS lines with exact totals,
and the export layouts, written to a local folder or an S3 bucket (``folder`` / ``bucket``).

Shapes, and where they come from:
- AWS Data Exports (FOCUS table ``FOCUS_1_2_AWS``, "create new export versions"): data and
  metadata keys as AWS's "Understanding export delivery" page gives them
  (``<prefix>/<export>/data|metadata/BILLING_PERIOD=YYYY-MM/``), one ``<executionId>/``
  folder per delivery, chunks ``<export>-00001.csv.gz``; the manifest has the fields of the
  CUR 2.0 manifest the demo ships (``finops/demo/data/README.md``): ``version``,
  ``exportArn``, ``exportName``, ``executionId``, ``billingPeriod``, ``bucket``,
  ``dataQuery``, ``columns``, ``dataFiles`` (``s3://bucket/key``), ``deliveryTimestamp``.
- Azure Cost Management export runs: ``<root>/<export>/<YYYYMMDD-YYYYMMDD>/<runId>/
  part_0_0001.csv.gz`` + ``manifest.json`` with the fields microsoft/finops-toolkit
  ``docs-mslearn/toolkit/hubs/data-processing.md`` documents (``exportConfig``,
  ``deliveryConfig``, ``runInfo``, ``blobs[{blobName, byteCount}]``) and the
  ``manifestVersion`` 2024-04-01 additions (``byteCount``, ``blobCount``, ``dataRowCount``).
- GCP shard sets: BigQuery writes ``billing-*.jsonl`` as ``billing-000000000000.jsonl``,
  ``billing-000000000001.jsonl`` … (12-digit numbers from 0).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Put = Callable[[str, bytes], None]  # (key, bytes): one object of a bucket or a folder

FOCUS_HEADER = ["BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
                "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ServiceName",
                "ResourceId", "BilledCost", "EffectiveCost", "ListCost", "Tags"]


def folder(root: Path) -> Put:
    def put(key: str, data: bytes) -> None:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return put


def bucket(client: Any, name: str) -> Put:
    def put(key: str, data: bytes) -> None:
        client.put_object(Bucket=name, Key=key, Body=data)

    return put


def focus_lines(n: int, cents: int, *, tag: str, account: str = "000123456789",
                period: str = "2026-09", currency: str = "USD") -> list[dict[str, str]]:
    """``n`` FOCUS usage lines of one account and period whose costs add up to ``cents``
    exactly (whole cents spread over the lines); ``tag`` makes their resources unique."""
    year, month = (int(x) for x in period.split("-"))
    end = f"{year + month // 12}-{month % 12 + 1:02d}-01T00:00:00Z"
    rows = []
    for i in range(n):
        cost = cents // n + (1 if i < cents % n else 0)
        day, hour = 1 + i % 28, i % 24
        rows.append({
            "BillingAccountId": account, "BillingCurrency": currency,
            "BillingPeriodStart": f"{period}-01T00:00:00Z", "BillingPeriodEnd": end,
            "ChargePeriodStart": f"{period}-{day:02d}T{hour:02d}:00:00Z",
            "ChargePeriodEnd": f"{period}-{day:02d}T{hour:02d}:59:59Z",
            "ChargeCategory": "Usage", "ServiceName": "Amazon Elastic Compute Cloud",
            "ResourceId": f"i-{tag}-{i:04d}", "BilledCost": f"{cost / 100:.2f}",
            "EffectiveCost": f"{cost / 100:.2f}", "ListCost": f"{cost / 100:.2f}",
            "Tags": json.dumps({"team": "web"})})
    return rows


def csv_bytes(rows: list[dict[str, str]], *, gz: bool = False) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = text.getvalue().encode()
    return gzip.compress(data, mtime=0) if gz else data


def write_focus(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(rows))
    return path


def aws_focus_export(put: Put, *, bucket_name: str, prefix: str, export: str, period: str,
                     execution: str, chunks: list[bytes], delivered: str) -> str:
    """One delivery (execution) of an AWS Data Exports FOCUS export; returns the
    manifest's key. ``chunks`` are gzip CSV files, written before the manifest (as AWS
    does: the manifest comes last)."""
    partition = f"BILLING_PERIOD={period}/{execution}"
    keys = [f"{prefix}/{export}/data/{partition}/{export}-{i:05d}.csv.gz"
            for i in range(1, len(chunks) + 1)]
    for key, data in zip(keys, chunks, strict=True):
        put(key, data)
    year, month = (int(x) for x in period.split("-"))
    manifest = {
        "version": "1.0",
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:210987654321:export/{export}-"
                     "5c1e0f7a-9b2d-4c3e-8f41-6a7b8c9d0e1f",
        "exportName": export,
        "executionId": execution,
        "billingPeriod": {"start": f"{period}-01T00:00:00.000Z",
                          "end": f"{year + month // 12}-{month % 12 + 1:02d}-01T00:00:00.000Z"},
        "bucket": bucket_name,
        "dataQuery": {"query": f"SELECT {', '.join(FOCUS_HEADER)} FROM FOCUS_1_2_AWS",
                      "tableConfigurations": {"FOCUS_1_2_AWS": {"TIME_GRANULARITY": "HOURLY"}}},
        "columns": [{"name": c, "type": "string"} for c in FOCUS_HEADER],
        "dataFiles": [f"s3://{bucket_name}/{key}" for key in keys],
        "deliveryTimestamp": delivered,
    }
    key = f"{prefix}/{export}/metadata/{partition}/{export}-Manifest.json"
    put(key, json.dumps(manifest, indent=2).encode())
    return key


def azure_export_run(put: Put, *, root: str, export: str, month: str, run_id: str,
                     submitted: str, parts: list[bytes],
                     export_type: str = "AmortizedCost") -> str:
    """One run of an Azure Cost Management export (gzip CSV parts, then ``manifest.json``
    in the run folder); returns the run folder's key."""
    year, mon = (int(x) for x in month.split("-"))
    last = 30 if mon in (4, 6, 9, 11) else 28 if mon == 2 else 31
    folder_key = f"{root}/{export}/{year}{mon:02d}01-{year}{mon:02d}{last}/{run_id}"
    names = [f"part_0_{i:04d}.csv.gz" for i in range(1, len(parts) + 1)]
    for name, data in zip(names, parts, strict=True):
        put(f"{folder_key}/{name}", data)
    blobs = [{"blobName": f"{folder_key}/{name}", "byteCount": len(data),
              "dataRowCount": gzip.decompress(data).count(b"\n") - 1}
             for name, data in zip(names, parts, strict=True)]
    manifest = {
        "manifestVersion": "2024-04-01",
        "byteCount": sum(b["byteCount"] for b in blobs),
        "blobCount": len(blobs),
        "dataRowCount": sum(b["dataRowCount"] for b in blobs),
        "exportConfig": {
            "exportName": export,
            "resourceId": "/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/providers/"
                          f"Microsoft.CostManagement/exports/{export}",
            "dataVersion": "2021-10-01", "apiVersion": "2023-07-01-preview",
            "type": export_type, "timeFrame": "MonthToDate", "granularity": "Daily"},
        "deliveryConfig": {
            "partitionData": True, "dataOverwriteBehavior": "CreateNewReport",
            "fileFormat": "Csv", "compressionMode": "gzip",
            "containerUri": "/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/"
                            "resourceGroups/finops/providers/Microsoft.Storage/"
                            "storageAccounts/finopsexports",
            "rootFolderPath": root},
        "runInfo": {"executionType": "Scheduled", "submittedTime": submitted,
                    "runId": run_id, "startDate": f"{month}-01T00:00:00",
                    "endDate": f"{month}-{last}T00:00:00"},
        "blobs": blobs,
    }
    put(f"{folder_key}/manifest.json", json.dumps(manifest, indent=2).encode())
    return folder_key

"""Writer of the AWS bill: a CUR 2.0 Data Export laid out as it lands in the S3 bucket.

``<out>/aws/`` is the bucket root:
``cur2/acme-cur2-hourly/data/BILLING_PERIOD=2026-10/acme-cur2-hourly-00001.snappy.parquet``
and ``cur2/acme-cur2-hourly/metadata/BILLING_PERIOD=2026-10/acme-cur2-hourly-Manifest.json``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from finops.synthetic import accounts as acc
from finops.synthetic import aws_lines as lines
from finops.synthetic import catalog as cat
from finops.synthetic import cur_format as cur
from finops.synthetic.intervals import listed
from finops.synthetic.model import Org
from finops.synthetic.spec import PERIOD_END, PERIOD_START

PERIOD = PERIOD_START.strftime("%Y-%m")
ROWS_PER_FILE = 2_000_000  # a new file at the first day past this: L has several
PRODUCT_NAMES = {"AmazonEC2": "Amazon Elastic Compute Cloud", "AmazonEKS": "Amazon Elastic "
                 "Container Service for Kubernetes", "AWSELB": "Elastic Load Balancing",
                 "AmazonRDS": "Amazon Relational Database Service",
                 "AmazonS3": "Amazon Simple Storage Service",
                 "ComputeSavingsPlans": "Savings Plans for AWS Compute usage",
                 "AWSDataTransfer": "AWS Data Transfer"}


def commitment(org: Org) -> float:
    """Hourly Savings Plan commitment: all main nodes plus half a batch node.

    So at night and at weekends (no batch node) part of the commitment goes unused.
    """
    main = [n for n in org.nodes if n.cluster == acc.EKS_CLUSTER and n.pool == "main"]
    batch = cat.AWS_INSTANCES[org.cluster(acc.EKS_CLUSTER).burst_type]
    per_day = max(1, org.spec.replica_slots // 1000)
    return round(sum(n.itype.sp_rate for n in main) + 0.5 * batch.sp_rate * per_day, 2)


B32 = "abcdefghijklmnopqrstuvwxyz234567"
B32_PAIRS = pl.Series([a + b for a in B32 for b in B32])  # 10 bits -> two base32 digits


def _line_ids(frame: pl.DataFrame) -> pl.Series:
    """Lower-case base32 of a 20-byte BLAKE2b of the line's identity.

    Hashing stays in Python (hashlib's C), the base32 step is vectorised: a 20-byte digest is
    eight 20-bit groups = five hex digits each = four base32 digits each (the stdlib encoder
    is a Python loop, most of the CUR writer's time at 10 million lines).
    """
    keys = frame.select(pl.concat_str(
        "line_item_usage_account_id", "line_item_line_item_type", "line_item_product_code",
        "line_item_usage_type",
        pl.col("line_item_resource_id").fill_null(""),
        pl.col("line_item_usage_start_date").dt.strftime("%Y%m%d%H"), separator="|"))
    digests = [hashlib.blake2b(k.encode(), digest_size=20).digest() for k in keys.to_series()]
    hexs = pl.Series("h", digests, dtype=pl.Binary).bin.encode("hex").to_frame()
    groups = hexs.select(pl.col("h").str.slice(5 * g, 5).str.to_integer(base=16).alias(str(g))
                         for g in range(8))
    pairs = [B32_PAIRS.gather(v).alias(f"{g}{i}") for g in range(8)
             for i, v in enumerate((groups[str(g)] // 1024, groups[str(g)] % 1024))]
    return pl.DataFrame(pairs).select(pl.concat_str(pl.all())).to_series()


class CurWriter:
    def __init__(self, out: Path, org: Org) -> None:
        self.org = org
        self.root = out / "aws"
        self.export = f"{acc.CUR_PREFIX}/{acc.CUR_EXPORT}"
        self.data_dir = self.root / self.export / "data" / f"BILLING_PERIOD={PERIOD}"
        self.meta_dir = self.root / self.export / "metadata" / f"BILLING_PERIOD={PERIOD}"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.commitment = commitment(org)
        self.files: list[Path] = []
        self.writer: pq.ParquetWriter | None = None
        self.file_rows = 0
        self.rows = 0
        self.by_account: dict[str, dict[str, float]] = {}
        self.taxable: dict[tuple[str, str], float] = {}

    def write_day(self, lo: datetime, hi: datetime, node_h: pl.DataFrame,
                  vol_h: pl.DataFrame, lb_h: pl.DataFrame) -> None:
        grid = pl.DataFrame({"hour": pl.datetime_range(lo, hi, "1h", closed="left",
                                                       time_unit="us", eager=True)})
        nodes = lines.ec2_nodes(node_h, self.commitment)
        parts = [nodes, lines.sp_fee(nodes, lo, hi, self.commitment), lines.eks_fee(grid),
                 lines.nlb(lb_h), lines.ebs(vol_h),
                 *lines.cloud(self.org.cloud, grid, grid.head(1))]
        if self.org.spec.transfer_lines:
            parts.append(lines.transfer(node_h))
        self._write(pl.concat([p for p in parts if p.height], how="diagonal_relaxed"))

    def _common(self, frame: pl.DataFrame) -> pl.DataFrame:
        start, end = pl.col("line_item_usage_start_date"), pl.col("line_item_usage_end_date")
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        product = listed(
            pl.struct(key=pl.lit("product_name"), value=pl.col("line_item_product_code")
                      .replace_strict(PRODUCT_NAMES, default=None)),
            pl.struct(key=pl.lit("region"), value=pl.lit(acc.AWS_REGION)))
        return frame.with_columns(
            bill_bill_type=pl.lit("Anniversary"), bill_billing_entity=pl.lit("AWS"),
            bill_billing_period_start_date=pl.lit(PERIOD_START),
            bill_billing_period_end_date=pl.lit(PERIOD_END),
            bill_invoice_id=pl.lit("2026110417"),
            bill_invoicing_entity=pl.lit("Amazon Web Services, Inc."),
            bill_payer_account_id=pl.lit(acc.AWS_PAYER[0]),
            bill_payer_account_name=pl.lit(acc.AWS_PAYER[1]),
            identity_time_interval=pl.format("{}/{}", start.dt.strftime(fmt),
                                             end.dt.strftime(fmt)),
            line_item_currency_code=pl.lit("USD"), pricing_currency=pl.lit("USD"),
            line_item_legal_entity=pl.lit("Amazon Web Services, Inc."),
            product=product,
        )

    def _write(self, frame: pl.DataFrame) -> None:
        frame = self._common(frame)
        frame = frame.with_columns(identity_line_item_id=_line_ids(frame))
        self._account(frame)
        table = cur.to_arrow(cur.conform(frame))
        if self.writer is None or self.file_rows >= ROWS_PER_FILE:
            self._open()
        assert self.writer is not None
        self.writer.write_table(table)
        self.file_rows += table.num_rows
        self.rows += table.num_rows

    def _open(self) -> None:
        if self.writer is not None:
            self.writer.close()
        path = self.data_dir / f"{acc.CUR_EXPORT}-{len(self.files) + 1:05d}.snappy.parquet"
        self.files.append(path)
        self.writer = pq.ParquetWriter(path, cur.ARROW_SCHEMA, compression="snappy")
        self.file_rows = 0

    def _account(self, frame: pl.DataFrame) -> None:
        sums = frame.group_by("line_item_usage_account_id", "line_item_product_code",
                              "line_item_line_item_type").agg(
            billed=pl.col("line_item_unblended_cost").sum(),
            effective=pl.col("_effective").sum())
        for account, product, kind, billed, effective in sums.sort(pl.all()).iter_rows():
            t = self.by_account.setdefault(account, {"billed_cost": 0.0, "effective_cost": 0.0})
            t["billed_cost"] += billed
            t["effective_cost"] += effective
            if kind not in ("Credit", "Tax"):
                key = (account, product)
                self.taxable[key] = self.taxable.get(key, 0.0) + billed

    def finish(self) -> dict:
        """Monthly lines (a credit, sales tax per account and service), then the manifest."""
        self._write(self._monthly())
        assert self.writer is not None
        self.writer.close()
        self._manifest()
        return {"rows": self.rows, "files": [str(p.relative_to(self.root)) for p in self.files],
                "savings_plan_hourly_commitment": self.commitment,
                "by_account": {a: {k: round(v, 6) for k, v in t.items()}
                               for a, t in sorted(self.by_account.items())}}

    def _monthly(self) -> pl.DataFrame:
        credit = round(-250.0 * self.org.spec.days / 31, 2)
        rows = [{"account": acc.AWS_PROD, "product": "AmazonEC2", "type": "Credit",
                 "cost": credit, "desc": "AWS Activate Credits", "tax_type": None}]
        for (account, product), billed in sorted(self.taxable.items()):
            tax = round(billed * cat.AWS_SALES_TAX_RATE, 2)
            who = acc.AWS_PROD if account == acc.AWS_PROD[0] else acc.AWS_SANDBOX
            rows.append({"account": who, "product": product, "type": "Tax", "cost": tax,
                         "desc": "Tax for product code " + product, "tax_type": "Sales tax"})
        frame = pl.DataFrame(rows)
        return frame.select(
            line_item_usage_account_id=pl.col("account").list.get(0),
            line_item_usage_account_name=pl.col("account").list.get(1),
            line_item_product_code="product", line_item_line_item_type="type",
            line_item_unblended_cost="cost", line_item_blended_cost="cost",
            line_item_net_unblended_cost="cost", line_item_line_item_description="desc",
            line_item_tax_type="tax_type", line_item_usage_amount=pl.lit(0.0),
            line_item_usage_type=pl.lit(""), _effective="cost",
            line_item_resource_id=pl.lit(None, pl.String),
            line_item_usage_start_date=pl.lit(PERIOD_START),
            line_item_usage_end_date=pl.lit(PERIOD_END))

    def _manifest(self) -> None:
        self.meta_dir.mkdir(parents=True, exist_ok=True)
        keys = [str(p.relative_to(self.root)) for p in self.files]
        query = "SELECT " + ", ".join(cur.NAMES) + " FROM COST_AND_USAGE_REPORT"
        manifest = {
            "version": "1.0",
            "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{acc.AWS_PAYER[0]}:export/"
                         f"{acc.CUR_EXPORT}-7f3a9c2e-1b4d-4e8f-a5c6-d7e8f9a0b1c2",
            "exportName": acc.CUR_EXPORT,
            "executionId": "b6f1d2c3-4a5e-4f60-8172-93a4b5c6d7e8",
            "billingPeriod": {"start": PERIOD_START.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                              "end": PERIOD_END.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
            "bucket": acc.CUR_BUCKET,
            "dataQuery": {"query": query, "tableConfigurations": {"COST_AND_USAGE_REPORT": {
                "TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE",
                "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "FALSE",
                "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "FALSE"}}},
            "columns": [{"name": n, "type": cur.GLUE_TYPES[t]} for n, t in cur.COLUMNS],
            "dataFiles": [f"s3://{acc.CUR_BUCKET}/{k}" for k in keys],
            "deliveryTimestamp": "2026-11-02T06:14:09.000Z",
        }
        path = self.meta_dir / f"{acc.CUR_EXPORT}-Manifest.json"
        path.write_text(json.dumps(manifest, indent=2) + "\n")

"""Pricing catalogs through the real clients against local HTTP servers.

AWS: moto has no Price List API, so a loopback server replays GetProducts answers
(data/aws/pricing/get_products.json) to real boto3 (JSON 1.1 protocol), one document per
page to drive the paginator; it applies only the regionCode/instanceType filters, so the
collector's own attribute check is what keeps Windows and capacity-reservation prices out.
GCP: a loopback server replays the real ``skus.list`` answer (data/gcp-catalog/skus.json,
split into two pages at its own nextPageToken) to the real CloudCatalogClient (REST).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import polars as pl
import pytest

from finops.warehouse import Warehouse
from ingestion.prices import aws_pricing, gcp_catalog
from models.loads import IngestRun, Load, Replace
from models.schemas import COST_LINE, K8S_NODE_HOUR
from tests.support.http import serve_http

DATA = Path(__file__).parents[1] / "data"


# -- AWS ---------------------------------------------------------------------------------------
class PriceListHandler(BaseHTTPRequestHandler):
    documents = json.loads((DATA / "aws/pricing/get_products.json").read_text())["PriceList"]
    requests: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.headers["X-Amz-Target"] == "AWSPriceListService.GetProducts"
        self.requests.append(body)
        terms = {f["Field"]: f["Value"] for f in body["Filters"]}
        hits = [d for d in self.documents if all(
            json.loads(d)["product"]["attributes"].get(k) == terms[k]
            for k in ("regionCode", "instanceType"))]
        start = int(body.get("NextToken") or 0)
        answer: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": hits[start:start + 1]}
        if start + 1 < len(hits):
            answer["NextToken"] = str(start + 1)
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def pricing_client(aws_env: None) -> Iterator[Any]:
    import boto3

    PriceListHandler.requests = []
    with serve_http(PriceListHandler) as url:
        yield boto3.client("pricing", endpoint_url=url, region_name="us-east-1")


@pytest.mark.integration
def test_aws_on_demand_linux_price_per_instance_type(pricing_client: Any,
                                                     warehouse: Warehouse) -> None:
    pairs = [("us-east-1", "c5ad.2xlarge"), ("us-east-1", "m6i.xlarge"),
             ("eu-west-1", "m6i.xlarge"), ("us-east-1", "x9.none")]
    run = warehouse.load(aws_pricing.prices_load(pricing_client, pairs))
    rows = warehouse.frame("SELECT region, instance_type, price, currency, sku_id, unit, spot "
                           "FROM price_catalog ORDER BY ALL").rows()
    assert rows == [
        ("eu-west-1", "m6i.xlarge", 0.214, "USD", "GGGG7777HHHH8888", "hour", False),
        ("us-east-1", "c5ad.2xlarge", 0.413, "USD", "AAAA1111BBBB2222", "hour", False),
        ("us-east-1", "m6i.xlarge", 0.192, "USD", "EEEE5555FFFF6666", "hour", False),
    ]
    assert run.rows == 3
    sent = PriceListHandler.requests[0]
    assert sent["ServiceCode"] == "AmazonEC2"
    assert {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"} in sent["Filters"]
    assert any(r.get("NextToken") for r in PriceListHandler.requests)  # paginated
    warehouse.load(aws_pricing.prices_load(pricing_client, pairs))  # replaces, never appends
    assert warehouse.frame("SELECT count(*) AS n FROM price_catalog")["n"][0] == 3


def test_aws_pairs_come_from_the_nodes_seen(warehouse: Warehouse) -> None:
    nodes = pl.DataFrame({
        "cluster": ["c", "c"], "node": ["n1", "n2"], "hour": [datetime(2026, 10, 5, 10)] * 2,
        "provider_id": ["aws:///us-east-1a/i-0aaa", "gce://p/z/n2"],
        "instance_type": ["m6i.xlarge", "e2-standard-4"], "region": [None, "us-central1"],
        "zone": ["us-east-1a", "us-central1-a"]})
    warehouse.load(Load(IngestRun.begin("test", []), [Replace(K8S_NODE_HOUR, nodes)]))
    assert aws_pricing.seen(warehouse) == [("us-east-1", "m6i.xlarge")]


def test_regions_come_from_each_providers_nodes_and_bill_lines(warehouse: Warehouse) -> None:
    nodes = pl.DataFrame({
        "cluster": ["a", "g", "a"], "node": ["n1", "n2", "n3"],
        "hour": [datetime(2026, 10, 5, 10)] * 3, "region": ["us-east-1", "europe-west1", None],
        "provider_id": ["aws:///us-east-1a/i-1", "gce://p/europe-west1-b/n2", "aws:///x/i-3"]})
    bill = pl.DataFrame({"provider": ["AWS", "Google Cloud", "GCP", "Microsoft", "AWS"],
                         "region_id": ["eu-west-1", "us-central1", "asia-east1", "westeurope",
                                       None]})
    warehouse.load(Load(IngestRun.begin("test", []), [Replace(K8S_NODE_HOUR, nodes),
                                                      Replace(COST_LINE, bill)]))
    assert aws_pricing.regions_seen(warehouse) == ["eu-west-1", "us-east-1"]
    assert gcp_catalog.regions_seen(warehouse) == {"asia-east1", "europe-west1", "us-central1"}


# -- GCP ---------------------------------------------------------------------------------------
class CatalogHandler(BaseHTTPRequestHandler):
    answer = json.loads((DATA / "gcp-catalog/skus.json").read_text())
    paths: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        self.paths.append(self.path)
        token = self.answer["nextPageToken"]
        if url.path != "/v1/services/6F81-5844-456A/skus":
            self.send_error(404)
            return
        if parse_qs(url.query).get("pageToken") == [token]:
            page: dict[str, Any] = {"skus": self.answer["skus"][4:]}
        else:
            page = {"skus": self.answer["skus"][:4], "nextPageToken": token}
        payload = json.dumps(page).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def catalog_client() -> Iterator[Any]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import billing_v1

    CatalogHandler.paths = []
    with serve_http(CatalogHandler) as url:
        yield billing_v1.CloudCatalogClient(
            credentials=AnonymousCredentials(), transport="rest",
            client_options={"api_endpoint": url})


@pytest.mark.integration
def test_gcp_vcpu_ram_gpu_prices_by_family_and_region(catalog_client: Any,
                                                      warehouse: Warehouse) -> None:
    run = warehouse.load(gcp_catalog.prices_load(catalog_client, {"us-central1",
                                                                  "asia-southeast1"}))
    rows = {(r, t, res): (round(p, 9), c, u, s, e) for r, t, res, p, c, u, s, e in
            warehouse.frame("SELECT region, instance_type, resource, price, currency, unit, "
                            "spot, effective_from FROM price_catalog").rows()}
    assert rows[("us-central1", "nvidia-tesla-a100", "gpu")][:3] == (2.933908, "USD", "hour")
    assert rows[("us-central1", "a2", "cpu")][:3] == (0.031611, "USD", "vcpu-hour")
    assert rows[("us-central1", "a2", "ram")][:3] == (0.004237, "USD", "gib-hour")
    assert rows[("asia-southeast1", "t2d", "cpu")][:2] == (508.934997455, "IDR")
    assert rows[("us-central1", "e2", "ram")][:2] == (43.85294978, "IDR")
    assert rows[("us-central1", "a2", "cpu")][4] == datetime(2023, 3, 24, 10, 52, 50, 681000)
    assert ("us-east1", "a2", "cpu") not in rows  # region not asked for
    assert len(rows) == run.rows == 5 + 2  # 5 Americas SKUs in us-central1 + 2 Singapore
    assert len(CatalogHandler.paths) == 2  # the pager followed nextPageToken


def test_gcp_first_non_zero_tier() -> None:
    from google.cloud import billing_v1

    rates = [billing_v1.PricingExpression.TierRate(
                 start_usage_amount=0, unit_price={"currency_code": "USD", "units": 0, "nanos": 0}),
             billing_v1.PricingExpression.TierRate(
                 start_usage_amount=730, unit_price={"currency_code": "USD", "units": 1,
                                                     "nanos": 250_000_000})]
    assert gcp_catalog.first_price(rates) == (1.25, "USD")
    assert gcp_catalog.family("N2D AMD Instance Core running in Americas", "cpu") == "n2d"
    assert gcp_catalog.family("Spot Preemptible E2 Instance Ram running in Virginia",
                              "ram") == "e2"

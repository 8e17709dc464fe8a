"""Writer of the Azure bill: a Cost Management ``FocusCost`` export (FOCUS 1.2 columns, daily).

A small subscription outside Kubernetes: two VMs, their OS disks and a storage account; some
resources carry a ``team`` tag, some none. Columns are FOCUS 1.2's 57 (PascalCase, as Azure
writes them) followed by a subset of Azure's ``x_`` columns.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import polars as pl

from finops.synthetic import accounts as acc
from finops.synthetic import catalog as cat
from finops.synthetic.model import CloudResource, Org
from finops.synthetic.spec import HOURS_IN_PERIOD, PERIOD_END, PERIOD_START

FOCUS_COLUMNS = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingAccountType", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost",
    "ListUnitPrice", "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId",
    "ResourceName", "ResourceType", "ServiceCategory", "ServiceName", "ServiceSubcategory",
    "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags")
X_COLUMNS = ("x_AccountName", "x_BilledCostInUsd", "x_BillingExchangeRate",
             "x_ContractedCostInUsd", "x_EffectiveCostInUsd", "x_ListCostInUsd",
             "x_PricingUnitDescription", "x_ResourceGroupName", "x_ResourceType",
             "x_ServicePeriodEnd", "x_ServicePeriodStart", "x_SkuDescription",
             "x_SkuMeterCategory", "x_SkuMeterSubcategory", "x_SkuRegion")
FMT = "%Y-%m-%dT%H:%M:%SZ"
SKU_IDS = {"D4s v5": "DZH318Z0BQ4W", "B2ms": "DZH318Z0BQ5B", "P10 LRS Disk": "DZH317F1HKN0",
           "Hot LRS Data Stored": "DZH317F1HKQF"}
NUMERIC = {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity",
           "PricingQuantity", "ContractedUnitPrice", "ListUnitPrice", "CommitmentDiscountQuantity",
           "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
           "PricingCurrencyListUnitPrice", "x_BilledCostInUsd", "x_BillingExchangeRate",
           "x_ContractedCostInUsd", "x_EffectiveCostInUsd", "x_ListCostInUsd"}
DAYS_IN_PERIOD = HOURS_IN_PERIOD // 24


def _attrs(**values: object) -> dict[str, object]:
    return values


def _kind(res: CloudResource) -> dict[str, object]:
    """Per-day quantity, unit price and descriptive columns of one resource."""
    if res.kind == "azure-vm":
        price = cat.AZURE_VMS[res.size]
        meter = res.size.replace("Standard_", "").replace("_", " ")
        return _attrs(qty=24.0, price=price, unit="1 Hour", consumed="Hours",
                      service="Virtual Machines", category="Compute",
                      sub="Virtual Machines", rtype="Virtual machine",
                      xrtype="microsoft.compute/virtualmachines", meter=meter,
                      meter_cat="Virtual Machines", meter_sub=f"{meter.split()[0]} Series")
    if res.kind == "azure-disk":
        return _attrs(qty=round(1 / DAYS_IN_PERIOD, 10), price=cat.AZURE_P10_MONTH,
                      unit="1/Month", consumed="Months", service="Storage",
                      category="Storage", sub="Block Storage", rtype="Disk",
                      xrtype="microsoft.compute/disks", meter="P10 LRS Disk",
                      meter_cat="Storage", meter_sub="Premium SSD Managed Disks")
    return _attrs(qty=round(float(res.size) / DAYS_IN_PERIOD, 10),
                  price=cat.AZURE_BLOB_HOT_GB_MONTH, unit="1 GB/Month", consumed="GB/Month",
                  service="Storage", category="Storage", sub="Object Storage",
                  rtype="Storage account", xrtype="microsoft.storage/storageaccounts",
                  meter="Hot LRS Data Stored", meter_cat="Storage", meter_sub="Blob Storage")


def _row(res: CloudResource, day_start: str, day_end: str) -> dict[str, object]:
    k = _kind(res)
    cost = round(float(k["qty"]) * float(k["price"]), 10)  # type: ignore[arg-type]
    group = res.resource_id.split("/resourceGroups/")[1].split("/")[0]
    sku = SKU_IDS[str(k["meter"])]
    row: dict[str, object] = dict.fromkeys(FOCUS_COLUMNS + X_COLUMNS)
    row.update({
        "BilledCost": cost, "EffectiveCost": cost, "ListCost": cost, "ContractedCost": cost,
        "PricingCurrencyEffectiveCost": cost, "BillingAccountId": acc.AZURE_BILLING_ACCOUNT[0],
        "BillingAccountName": acc.AZURE_BILLING_ACCOUNT[1],
        "BillingAccountType": "Billing Account", "BillingCurrency": "USD",
        "BillingPeriodStart": PERIOD_START.strftime(FMT),
        "BillingPeriodEnd": PERIOD_END.strftime(FMT), "ChargeCategory": "Usage",
        "ChargeDescription": f"{k['meter']} - {k['service']}",
        "ChargeFrequency": "Usage-Based", "ChargePeriodStart": day_start,
        "ChargePeriodEnd": day_end, "ConsumedQuantity": k["qty"], "ConsumedUnit": k["consumed"],
        "ContractedUnitPrice": k["price"], "ListUnitPrice": k["price"],
        "PricingCurrencyContractedUnitPrice": k["price"],
        "PricingCurrencyListUnitPrice": k["price"], "InvoiceIssuerName": "Microsoft",
        "PricingCategory": "Standard", "PricingCurrency": "USD", "PricingQuantity": k["qty"],
        "PricingUnit": k["unit"], "ProviderName": "Microsoft", "PublisherName": "Microsoft",
        "RegionId": acc.AZURE_REGION, "RegionName": "East US",
        "ResourceId": res.resource_id.lower(), "ResourceName": res.name,
        "ResourceType": k["rtype"], "ServiceCategory": k["category"],
        "ServiceName": k["service"], "ServiceSubcategory": k["sub"], "SkuId": sku,
        "SkuMeter": k["meter"], "SkuPriceId": f"{sku}/0001", "SkuPriceDetails": "{}",
        "SubAccountId": f"/subscriptions/{acc.AZURE_SUBSCRIPTION[0]}",
        "SubAccountName": acc.AZURE_SUBSCRIPTION[1], "SubAccountType": "Subscription",
        "Tags": json.dumps(dict(res.tags), separators=(",", ":")) if res.tags else "{}",
        "x_AccountName": "acme-it-enrollment", "x_BilledCostInUsd": cost,
        "x_BillingExchangeRate": 1.0, "x_ContractedCostInUsd": cost,
        "x_EffectiveCostInUsd": cost, "x_ListCostInUsd": cost,
        "x_PricingUnitDescription": k["unit"], "x_ResourceGroupName": group,
        "x_ResourceType": k["xrtype"], "x_ServicePeriodStart": day_start,
        "x_ServicePeriodEnd": day_end, "x_SkuDescription": f"{k['meter']} {k['meter_sub']}",
        "x_SkuMeterCategory": k["meter_cat"], "x_SkuMeterSubcategory": k["meter_sub"],
        "x_SkuRegion": "US East",
    })
    return row


def write_azure(out: Path, org: Org) -> dict:
    directory = out / "azure"
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    for d in range(org.spec.days):
        start = org.spec.start + timedelta(days=d)
        lo, hi = start.strftime(FMT), (start + timedelta(days=1)).strftime(FMT)
        rows += [_row(res, lo, hi) for res in org.cloud if res.provider == "azure"]
    frame = pl.DataFrame(rows, schema={c: pl.Float64 if c in NUMERIC else pl.String
                                       for c in FOCUS_COLUMNS + X_COLUMNS})
    path = directory / f"focus_{PERIOD_START:%Y-%m}.csv"
    frame.write_csv(path, float_precision=None)
    costs = [float(r["BilledCost"]) for r in rows]  # type: ignore[arg-type]
    return {"rows": len(rows), "file": path.name, "billed_cost": round(sum(costs), 6)}

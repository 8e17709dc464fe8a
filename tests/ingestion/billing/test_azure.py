"""Azure cost exports -> cost_line: every dialect to the cent, actual vs amortized, FOCUS."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from finops.pipeline.store import store
from finops.warehouse import Warehouse
from ingestion.billing.azure import Options, read_azure
from ingestion.billing.cost_lines import cost_lines_load
from models.errors import InputError

DATA = Path(__file__).parents[1] / "data"
FILES = sorted((DATA / "azure-toolkit").glob("*.csv")) + sorted(
    (DATA / "azure-variants").glob("*.csv"))
COST = ("cost", "costinbillingcurrency", "pretaxcost")
COMMITTED = ("reservation", "savingsplan")
DEFAULT = Options()


def rows(path: Path) -> list[dict[str, str]]:
    """Source rows with lower-cased, punctuation-free keys (csv module, not our reader)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [{k.lower().replace("_", ""): v for k, v in r.items()}
                for r in csv.DictReader(handle) if any(r.values())]


def source_cost(row: dict[str, str]) -> float:
    return float(next(row[c] for c in COST if c in row) or 0)


def load(warehouse: Warehouse, *paths: Path, options: Options = DEFAULT) -> None:
    store(warehouse, cost_lines_load("azure", [read_azure(p, options) for p in paths], list(paths)))


def sums(warehouse: Warehouse) -> dict[str, float]:
    frame = warehouse.frame("SELECT sum(billed_cost) AS billed, sum(effective_cost) AS eff, "
                            "count(*) AS n FROM cost_line")
    return frame.row(0, named=True)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_export_sums_to_the_cent(path: Path, warehouse: Warehouse) -> None:
    load(warehouse, path)
    source = rows(path)
    total = sum(source_cost(r) for r in source)
    amortized = "Amortized" in path.name
    billed = sum(source_cost(r) for r in source
                 if not (amortized and r.get("pricingmodel", "").lower() in COMMITTED))
    got = sums(warehouse)
    assert got["n"] == len(source)
    assert round(got["eff"], 2) == round(total, 2) and abs(got["eff"] - total) < 1e-6
    assert round(got["billed"], 2) == round(billed, 2) and abs(got["billed"] - billed) < 1e-6


def test_amortized_marks_commitment_rows() -> None:
    frame = read_azure(DATA / "azure-toolkit" / "EA_AmortizedCost_Small.csv")
    used = frame.filter(frame["commitment_discount_status"] == "Used")
    assert used.height == 2
    assert (used["billed_cost"] == 0).all() and (used["effective_cost"] > 0).all()
    assert used["commitment_discount_id"].str.starts_with("/providers/microsoft.").all()


def test_actual_keeps_the_purchase_billed() -> None:
    frame = read_azure(DATA / "azure-toolkit" / "EA_ActualCost_Small.csv")
    purchase = frame.filter(frame["charge_category"] == "Purchase")
    assert purchase.height == 1
    assert purchase["billed_cost"][0] == purchase["effective_cost"][0] == 3.25
    assert purchase["charge_frequency"][0] == "Recurring"


def test_ea_columns_brace_less_tags_and_periods() -> None:
    frame = read_azure(DATA / "azure-toolkit" / "EA_AmortizedCost_Small.csv")
    row = frame.filter(frame["resource_id"].str.contains("aks-agentpool")).row(0, named=True)
    tags = {t["key"]: t["value"] for t in row["tags"]}
    assert tags["env"] == "prod" and tags["aks-managed-poolName"] == "agentpool"
    assert row["resource_id"] == row["resource_id"].lower()
    assert row["resource_id"].endswith("/virtualmachinescalesets/aks-agentpool-42850074-vmss")
    assert row["sub_account_id"] == "/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674"
    assert row["billing_account_id"] == "8611537"
    assert str(row["billing_period_start"]) == "2023-09-01 00:00:00"
    assert str(row["billing_period_end"]) == "2023-10-01 00:00:00"  # inclusive end + 1 day
    assert row["provider"] == "Microsoft"


def test_legacy_v1_uses_subscription_as_account_and_usage_month() -> None:
    frame = read_azure(DATA / "azure-variants" /
                       "koku_costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv")
    assert frame["billing_account_id"][0] == "0039de71-ca37-4a17-a104-17665a50e7fc"
    assert str(frame["billing_period_start"][0]) == "2019-07-01 00:00:00"
    named = read_azure(DATA / "azure-variants" /
                       "koku_costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv",
                       Options(billing_account_id="ea-1"))
    assert named["billing_account_id"][0] == "ea-1"


def test_amortized_replaces_actual_of_the_same_period(warehouse: Warehouse) -> None:
    load(warehouse, DATA / "azure-toolkit" / "EA_ActualCost_Small.csv")
    load(warehouse, DATA / "azure-toolkit" / "EA_AmortizedCost_Small.csv")
    assert sums(warehouse)["n"] == 28  # never both views of the same charges


def test_azure_focus_export(tmp_path: Path, warehouse: Warehouse) -> None:
    sample = DATA / "focus-1.0" / "focus_sample.csv"
    with sample.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        microsoft = [r for r in reader if r["ProviderName"] == "Microsoft"]
    path = tmp_path / "focuscost.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(microsoft)
    load(warehouse, path)
    got = sums(warehouse)
    assert got["n"] == 51
    assert round(got["billed"], 6) == round(sum(float(r["BilledCost"]) for r in microsoft), 6)


def test_bad_azure_inputs(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("SubscriptionGuid,UsageDateTime,PreTaxCost,Currency\n"
                    "s1,2019-07-29,0.5,USD\ns1,not-a-date,0.5,USD\n")
    with pytest.raises(InputError, match=r"bad\.csv: row 2, column 'UsageDateTime'"):
        read_azure(path)
    path.write_text("SubscriptionGuid,UsageDateTime,Currency\ns1,2019-07-29,USD\n")
    with pytest.raises(InputError, match=r"missing required column\(s\): Cost"):
        read_azure(path)

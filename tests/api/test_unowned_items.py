"""GET /api/unowned/items over the hand-written warehouse: totals equal the unowned spend of
the spec, sorting / filtering / pages, bad parameters are 4xx, team leads see their places."""

from __future__ import annotations

import io

import polars as pl
import pytest
from fastapi.testclient import TestClient

from tests.support.api import assert_error
from tests.support.api_warehouse import AWS, auth, expected

pytestmark = pytest.mark.integration
URL = "/api/unowned/items"


def unowned_total() -> float:
    return sum(expected(reason=r) for r in ("no-team-label", "untagged-resource",
                                            "idle-capacity"))


def test_every_item_with_its_money_tags_and_fix(client: TestClient) -> None:
    body = client.get(URL, headers=auth("finance")).json()
    assert body["scope"] == "organisation" and body["currency"] == "USD"
    assert body["total_items"] == 3 and body["pages"] == 1
    assert body["total_effective_cost"] == pytest.approx(unowned_total(), abs=0.01)
    by_reason = {i["reason"]: i for i in body["items"]}
    bucket = by_reason["untagged-resource"]
    assert bucket["resource_id"] == "bucket-logs" and bucket["first_seen"] == "2026-10-01"
    assert bucket["effective_cost"] == pytest.approx(expected(reason="untagged-resource"))
    assert "aws_accounts: [111111111111]" in bucket["fix"]
    assert "kubectl label namespace sandbox" in by_reason["no-team-label"]["fix"]


def test_sort_filter_and_pages(client: TestClient) -> None:
    asc = client.get(URL, params={"sort": "cost", "order": "asc"},
                     headers=auth("platform")).json()["items"]
    costs = [i["effective_cost"] for i in asc]
    assert costs == sorted(costs)
    page2 = client.get(URL, params={"per_page": 1, "page": 2},
                       headers=auth("platform")).json()
    assert page2["pages"] == 3 and len(page2["items"]) == 1
    assert page2["items"][0]["effective_cost"] == sorted(costs, reverse=True)[1]
    found = client.get(URL, params={"q": "BUCKET"}, headers=auth("platform")).json()
    assert [i["resource_id"] for i in found["items"]] == ["bucket-logs"]
    assert found["matching_effective_cost"] == pytest.approx(expected(reason="untagged-resource"),
                                                             abs=0.01)
    idle = client.get(URL, params={"reason": "idle-capacity"}, headers=auth("platform")).json()
    assert idle["matching_items"] == 1 and idle["total_items"] == 3


@pytest.mark.parametrize(("params", "status"), [
    ({"sort": "size"}, 422), ({"order": "up"}, 422), ({"per_page": 0}, 422),
    ({"page": 9}, 400), ({"start": "2026-10-14", "end": "2026-10-01"}, 400)])
def test_bad_parameters_are_4xx(client: TestClient, params: dict[str, object],
                                status: int) -> None:
    assert_error(client.get(URL, params=params, headers=auth("platform")), status)


def test_team_leads_see_the_items_in_their_places_only(client: TestClient) -> None:
    # search owns most of account 111111111111's cloud spend (its RDS): the untagged bucket
    # there is its to act on; the sandbox namespace and the GKE idle capacity are nobody's.
    search = client.get(URL, headers=auth("search")).json()
    assert search["scope"] == "search"
    assert [(i["resource_id"], i["sub_account_id"]) for i in search["items"]] == [
        ("bucket-logs", AWS)]
    assert search["total_effective_cost"] == pytest.approx(expected(reason="untagged-resource"),
                                                           abs=0.01)
    payments = client.get(URL, headers=auth("payments")).json()
    assert payments["total_items"] == 0 and payments["items"] == []


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_matching_item_as_a_file(client: TestClient, fmt: str) -> None:
    # The file holds every item of the selection (no pages), scoped like the JSON.
    body = client.get(URL, params={"per_page": 1}, headers=auth("platform")).json()
    response = client.get(URL, params={"per_page": 1, "format": fmt}, headers=auth("platform"))
    assert response.status_code == 200 and f'.{fmt}"' in response.headers["content-disposition"]
    frame = (pl.read_csv(io.BytesIO(response.content)) if fmt == "csv"
             else pl.read_parquet(io.BytesIO(response.content)))
    assert frame.height == body["total_items"] == 3
    assert round(frame["effective_cost"].sum(), 2) == body["total_effective_cost"]
    assert set(frame["currency"].to_list()) == {"USD"}
    assert frame["effective_cost"].to_list() == sorted(frame["effective_cost"].to_list(),
                                                       reverse=True)
    search = pl.read_csv(io.BytesIO(client.get(URL, params={"format": "csv"},
                                               headers=auth("search")).content))
    assert search["resource_id"].to_list() == ["bucket-logs"]

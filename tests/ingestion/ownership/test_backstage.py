"""The Backstage catalog collector: a catalog-info tree or an entity JSON file -> owners."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion.ownership.backstage import read_catalog
from models.errors import ConfigError, InputError
from models.schemas import BACKSTAGE_OWNERS

PAYMENTS = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-api
  annotations:
    backstage.io/kubernetes-namespace: checkout
    backstage.io/kubernetes-id: checkout-api
spec:
  owner: group:default/payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: orphan
  annotations:
    backstage.io/kubernetes-namespace: lost
spec: {}
"""


def test_a_tree_of_catalog_files(tmp_path: Path) -> None:
    (tmp_path / "team-a").mkdir()
    (tmp_path / "team-a" / "catalog-info.yaml").write_text(PAYMENTS)
    (tmp_path / "search.yml").write_text(
        "kind: Component\nmetadata:\n  annotations:\n"
        "    backstage.io/kubernetes-namespace: search\nspec:\n  owner: search\n")
    owners = read_catalog(tmp_path)
    assert owners.schema == BACKSTAGE_OWNERS
    assert sorted(owners.rows()) == [("kubernetes-id", "checkout-api", "payments"),
                                     ("namespace", "checkout", "payments"),
                                     ("namespace", "search", "search")]  # no owner: no claim


def test_an_entity_json_file_as_the_catalog_api_returns_it(tmp_path: Path) -> None:
    entity = {"metadata": {"annotations": {"backstage.io/kubernetes-namespace": "ml"}},
              "spec": {"owner": "user:default/data"}}
    path = tmp_path / "entities.json"
    path.write_text(json.dumps({"items": [entity, "not an entity"]}))
    assert read_catalog(path).rows() == [("namespace", "ml", "data")]
    path.write_text(json.dumps([entity]))
    assert read_catalog(path).rows() == [("namespace", "ml", "data")]


def test_no_catalog_is_no_owners() -> None:
    owners = read_catalog(None)
    assert owners.height == 0 and owners.schema == BACKSTAGE_OWNERS


def test_bad_catalogs_name_the_key_or_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ownership.backstage_catalog: .*nowhere does not exist"):
        read_catalog(tmp_path / "nowhere")
    broken = tmp_path / "catalog-info.yaml"
    broken.write_text("kind: [unclosed\n")
    with pytest.raises(InputError, match=r"catalog-info\.yaml: not a Backstage catalog file"):
        read_catalog(tmp_path)
    number = tmp_path / "n.json"
    number.write_text("42")
    with pytest.raises(InputError, match=r"n\.json: not a Backstage catalog file"):
        read_catalog(number)

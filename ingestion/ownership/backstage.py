"""A Backstage catalog -> owners (``models.schemas.BACKSTAGE_OWNERS``), read once per
allocation run.

The catalog is a tree of ``catalog-info`` YAML files (every ``*.yaml``/``*.yml`` below the
path, multi-document) or one entity JSON file (a list, or ``{"items": [...]}`` as the catalog
API returns). An entity claims what its ``backstage.io/kubernetes-namespace`` or
``backstage.io/kubernetes-id`` annotation names for its ``spec.owner`` (``group:default/
payments`` -> ``payments``); entities without an owner claim nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from models.errors import ConfigError, InputError
from models.schemas import BACKSTAGE_OWNERS

ANNOTATIONS = {"kubernetes-namespace": "namespace", "kubernetes-id": "kubernetes-id"}


def read_catalog(path: Path | None) -> pl.DataFrame:
    """The owners a catalog declares; no path: none."""
    if path is None:
        return owners([])
    if not path.exists():
        raise ConfigError(f"ownership.backstage_catalog: {path} does not exist")
    files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
    return owners(entity for file in files for entity in _entities(file))


def _entities(file: Path) -> list[Any]:
    try:
        text = file.read_text()
        if file.suffix == ".json":
            data = json.loads(text)
            return list(data.get("items", []) if isinstance(data, dict) else data)
        return [d for d in yaml.safe_load_all(text) if d]
    except (OSError, ValueError, TypeError, yaml.YAMLError) as exc:
        raise InputError(f"{file}: not a Backstage catalog file: {exc}") from None


def owners(entities: Iterable[Any]) -> pl.DataFrame:
    """Entities -> (kind, match, owner) rows; anything that is not an entity is skipped."""
    rows: list[dict[str, str]] = []
    for entity in entities:
        if not isinstance(entity, dict):
            continue
        owner = str((entity.get("spec") or {}).get("owner") or "")
        owner = owner.split(":", 1)[-1].split("/", 1)[-1].strip()
        notes = (entity.get("metadata") or {}).get("annotations") or {}
        if not owner:
            continue
        for annotation, kind in ANNOTATIONS.items():
            value = notes.get(f"backstage.io/{annotation}")
            if value:
                rows.append({"kind": kind, "match": str(value), "owner": owner})
    return pl.DataFrame(rows, schema=BACKSTAGE_OWNERS)

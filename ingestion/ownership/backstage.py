"""A Backstage catalog -> owners (``models.schemas.BACKSTAGE_OWNERS``), read once per
allocation run; and -> entities (``BACKSTAGE_ENTITY``), loaded into the warehouse by
``finops ingest backstage`` for governance (catalog drift) and the Backstage Cost Insights API.

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
from models.loads import IngestRun, Load, Replace, file_checksum
from models.schemas import BACKSTAGE_ENTITY, BACKSTAGE_OWNERS

ANNOTATIONS = {"kubernetes-namespace": "namespace", "kubernetes-id": "kubernetes-id"}


def read_catalog(path: Path | None) -> pl.DataFrame:
    """The owners a catalog declares; no path: none."""
    if path is None:
        return owners([])
    files = catalog_files(path, "ownership.backstage_catalog")
    return owners(entity for file in files for entity in _entities(file))


def catalog_files(path: Path, what: str) -> list[Path]:
    """The catalog files under ``path`` (a tree of YAML files, or one file)."""
    if not path.exists():
        raise ConfigError(f"{what}: {path} does not exist")
    return sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]


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
        owner = entity_name((entity.get("spec") or {}).get("owner"))
        notes = (entity.get("metadata") or {}).get("annotations") or {}
        if not owner:
            continue
        for annotation, kind in ANNOTATIONS.items():
            value = notes.get(f"backstage.io/{annotation}")
            if value:
                rows.append({"kind": kind, "match": str(value), "owner": owner})
    return pl.DataFrame(rows, schema=BACKSTAGE_OWNERS)


def entity_name(ref: object) -> str:
    """An entity reference reduced to its name: ``group:default/payments`` -> ``payments``."""
    return str(ref or "").split(":", 1)[-1].split("/", 1)[-1].strip()


def _names(values: object) -> list[str]:
    return [entity_name(v) for v in values if entity_name(v)] if isinstance(values, list) else []


def entity_row(entity: dict[str, Any], source: str) -> dict[str, Any] | None:
    """One catalog entity as a ``backstage_entity`` row; None for what has no kind or name."""
    meta, spec = entity.get("metadata") or {}, entity.get("spec") or {}
    kind, name = str(entity.get("kind") or ""), str(meta.get("name") or "")
    if not kind or not name or not isinstance(spec, dict):
        return None
    notes = meta.get("annotations") or {}
    return {
        "ref": f"{kind}:{meta.get('namespace') or 'default'}/{name}".lower(),
        "kind": kind, "name": name, "owner": entity_name(spec.get("owner")) or None,
        "k8s_namespace": notes.get("backstage.io/kubernetes-namespace") or None,
        "k8s_id": notes.get("backstage.io/kubernetes-id") or None,
        "member_of": _names(spec.get("memberOf")), "members": _names(spec.get("members")),
        "x_source_file": source,
    }


def read_entities(path: Path) -> pl.DataFrame:
    """Every entity of the catalog at ``path`` (``BACKSTAGE_ENTITY``); a ref seen twice keeps
    its first file's entity, as Backstage keeps one entity per ref."""
    rows = [row for file in catalog_files(path, "backstage catalog")
            for entity in _entities(file) if isinstance(entity, dict)
            if (row := entity_row(entity, str(file))) is not None]
    frame = pl.DataFrame(rows, schema=BACKSTAGE_ENTITY.schema)
    return frame.unique("ref", keep="first", maintain_order=True)


def catalog_load(path: Path) -> Load:
    """The catalog as a load that replaces the whole ``backstage_entity`` table."""
    files = catalog_files(path, "backstage catalog")
    run = IngestRun.begin("backstage", files, checksum=file_checksum(files))
    return Load(run, [Replace(BACKSTAGE_ENTITY, read_entities(path), "true")])

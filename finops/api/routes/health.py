"""Liveness: answers without a token, and says whether a snapshot is published."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from finops.api.deps import ContextDep
from models.api import Health

router = APIRouter(tags=["health"])


def _version() -> str:
    try:
        return version("finops")
    except PackageNotFoundError:
        return "unknown"


@router.get("/healthz", response_model=Health)
def healthz(ctx: ContextDep) -> Health:
    """The process is up. ``snapshot_exists`` is false until the first publish."""
    age = ctx.reader.snapshot_age_s()
    return Health(ok=True, snapshot=str(ctx.sandbox.snapshot), snapshot_exists=age is not None,
                  snapshot_age_s=age, version=_version())

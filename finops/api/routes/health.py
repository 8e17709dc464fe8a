"""Liveness and readiness, without a token (Kubernetes probes, load balancers).

``/healthz``: the process answers; it reads no data and names no file. ``/readyz``: a published
snapshot is present and readable; it says which generation this process serves, how old it is,
and when each source last loaded successfully (503 with the canonical body when not ready).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, Response

from finops.api.deps import ReaderDep
from finops.api.reader import SnapshotReader
from models.api import Health, Readiness, SourceAge

router = APIRouter(tags=["health"])
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    503: {"description": "Not ready: no published snapshot, or it cannot be read."}}


@cache  # a probe comes every few seconds; the installed version does not change meanwhile
def _version() -> str:
    try:
        return version("finops")
    except PackageNotFoundError:
        return "unknown"


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """No icon (204): a browser asks for one on every site, and a 404 is a console error."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (liveness). Says nothing about data: see ``/readyz``."""
    return Health(ok=True, version=_version())


@router.get("/readyz", response_model=Readiness, responses=ERROR_RESPONSES)
def readyz(reader: ReaderDep) -> Readiness:
    """Ready to serve: the snapshot generation in use, its age, and each source's data age
    (its newest successful load)."""
    published = reader.generation.published_at
    return Readiness(ok=True, generation=reader.generation.number,
                     published_at=datetime.fromtimestamp(published, UTC),
                     snapshot_age_s=round(datetime.now(UTC).timestamp() - published, 3),
                     sources=source_ages(reader))


def source_ages(reader: SnapshotReader) -> list[SourceAge]:
    """Newest successful run of each source (``ingest_runs`` keeps local wall-clock time)."""
    frame = reader.frame(
        "SELECT source, max(started_at) AS last_ok_at, "
        "epoch(now()::TIMESTAMP) - epoch(max(started_at)) AS age_s "
        "FROM ingest_runs WHERE status = 'ok' GROUP BY source ORDER BY source")
    return [SourceAge(source=r["source"], last_ok_at=r["last_ok_at"],
                      age_s=round(float(r["age_s"]), 3)) for r in frame.iter_rows(named=True)]

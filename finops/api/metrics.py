"""Prometheus metrics of the API, in the text exposition format (no client library needed).

Counted per route template (``/api/teams/{team}``), not per concrete path, so a team name
in a URL never becomes a label value and the series count stays bounded.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import Request, Response

from finops.alerts.reads import gauges
from finops.api.snapshots import SnapshotManager, published_age_s
from models.errors import FinOpsError


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.sql: dict[str, int] = defaultdict(int)
        self.sql_kills: dict[str, int] = defaultdict(int)
        self.cache: dict[str, int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            self.seconds[(method, route)] += seconds

    def cache_outcome(self, outcome: str) -> None:
        """``hit`` or ``miss`` of the response cache (``finops.api.response_cache``)."""
        with self._lock:
            self.cache[outcome] += 1

    def _cache_lines(self) -> list[str]:
        return ["# HELP finops_response_cache_total Cacheable requests answered from the "
                "response cache (hit) or computed (miss).",
                "# TYPE finops_response_cache_total counter",
                *(f'finops_response_cache_total{{result="{outcome}"}} '
                  f'{self.cache.get(outcome, 0)}' for outcome in ("hit", "miss"))]

    # --- SQL sandbox (issue 11): outcomes and worker kills --------------------------------
    def sql_outcome(self, outcome: str) -> None:
        """``ok`` (completed), ``rejected``, ``time_limit``, ``memory_limit``, ``queue_full``
        (answered 429)."""
        with self._lock:
            self.sql[outcome] += 1

    def sql_worker_killed(self, reason: str) -> None:
        """A worker process was killed (``time``) or died (``memory``) and was replaced."""
        with self._lock:
            self.sql_kills[reason] += 1

    def _sql_lines(self) -> list[str]:
        lines = ["# HELP finops_sql_queries_total SQL endpoint queries by outcome (ok = "
                 "completed, queue_full = refused with 429).",
                 "# TYPE finops_sql_queries_total counter"]
        lines += [f'finops_sql_queries_total{{outcome="{k}"}} {v}'
                  for k, v in sorted(self.sql.items())]
        lines += ["# HELP finops_sql_worker_kills_total SQL worker processes killed at the time "
                  "limit or lost at the memory cap, by reason.",
                  "# TYPE finops_sql_worker_kills_total counter"]
        lines += [f'finops_sql_worker_kills_total{{reason="{reason}"}} '
                  f'{self.sql_kills.get(reason, 0)}' for reason in ("memory", "time")]
        return lines
    # --- end SQL sandbox --------------------------------------------------------------------

    def render(self, snapshots: SnapshotManager) -> str:
        lines = [
            "# HELP finops_http_requests_total HTTP requests by method, route and status.",
            "# TYPE finops_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), count in sorted(self.requests.items()):
                labels = f'method="{method}",route="{_escape(route)}",status="{status}"'
                lines.append(f"finops_http_requests_total{{{labels}}} {count}")
            lines += ["# HELP finops_http_request_seconds_total Time spent serving requests.",
                      "# TYPE finops_http_request_seconds_total counter"]
            for (method, route), seconds in sorted(self.seconds.items()):
                labels = f'method="{method}",route="{_escape(route)}"'
                lines.append(f"finops_http_request_seconds_total{{{labels}}} {seconds:.6f}")
            lines += self._sql_lines()
            lines += self._cache_lines()
        lines += _snapshot_lines(snapshots)
        lines += _outbox_lines(snapshots)
        return "\n".join(lines) + "\n"


# -- snapshot generations (finops.api.snapshots) -------------------------------------------
def _snapshot_lines(snapshots: SnapshotManager) -> list[str]:
    age = published_age_s(snapshots.path)
    status = snapshots.status()
    return [
        "# HELP finops_snapshot_age_seconds Seconds since the warehouse snapshot was published"
        " (NaN when none is published).",
        "# TYPE finops_snapshot_age_seconds gauge",
        f"finops_snapshot_age_seconds {age:.3f}" if age is not None
        else "finops_snapshot_age_seconds NaN",
        "# HELP finops_snapshot_present 1 when a published snapshot exists.",
        "# TYPE finops_snapshot_present gauge",
        f"finops_snapshot_present {0 if age is None else 1}",
        "# HELP finops_snapshot_generation Snapshot generation new requests read (0: none yet).",
        "# TYPE finops_snapshot_generation gauge",
        f"finops_snapshot_generation {status.generation or 0}",
        "# HELP finops_snapshot_swaps_total Times a newly published snapshot replaced the one"
        " new requests read.",
        "# TYPE finops_snapshot_swaps_total counter",
        f"finops_snapshot_swaps_total {status.swaps}",
        "# HELP finops_snapshot_generations_open Snapshot generations open: the current one,"
        " plus replaced ones that requests in flight still read.",
        "# TYPE finops_snapshot_generations_open gauge",
        f"finops_snapshot_generations_open {status.open_generations}",
    ]
# -- end of snapshot generations ----------------------------------------------------------


# -- the alert outbox (finops.alerts), as the last published snapshot holds it ---------------
def _outbox_lines(snapshots: SnapshotManager) -> list[str]:
    now = datetime.now(UTC).replace(tzinfo=None)
    try:
        with snapshots.lease() as generation:
            cursor = generation.cursor()
            try:
                found = gauges(cursor, now)
            finally:
                cursor.close()
    except FinOpsError:
        found = None  # no snapshot yet: the gauges say NaN rather than a reassuring 0

    def value(name: str) -> str:
        return "NaN" if found is None else f"{found[name]:g}"

    pending = ("NaN" if found is None
               else f"{found['status:pending'] + found['status:sending']:g}")
    lines = [
        "# HELP finops_alerts_pending Alert messages waiting for delivery (pending or being "
        "sent).",
        "# TYPE finops_alerts_pending gauge", f"finops_alerts_pending {pending}",
        "# HELP finops_alerts_dead Alert messages dead-lettered (`finops alerts retry`).",
        "# TYPE finops_alerts_dead gauge", f"finops_alerts_dead {value('status:dead')}",
        "# HELP finops_alerts_oldest_pending_age_seconds Age of the oldest alert message not "
        "delivered yet (0: none).",
        "# TYPE finops_alerts_oldest_pending_age_seconds gauge",
        f"finops_alerts_oldest_pending_age_seconds {value('oldest_pending_s')}",
        "# HELP finops_alerts_messages Alert messages in the outbox by status.",
        "# TYPE finops_alerts_messages gauge"]
    statuses = ("pending", "sending", "sent", "dead")
    return lines + [f'finops_alerts_messages{{status="{s}"}} {value("status:" + s)}'
                    for s in statuses]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def route_template(request: Request) -> str:
    """The matched route's path template (the router leaves it in the scope), or
    ``unmatched`` for a path no route serves."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))


Handler = Callable[[Request], Awaitable[Response]]


def middleware(metrics: Metrics) -> Callable[[Request, Handler], Awaitable[Response]]:
    async def record(request: Request, call_next: Handler) -> Response:
        started = time.monotonic()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            metrics.observe(request.method, route_template(request), status,
                            time.monotonic() - started)

    return record

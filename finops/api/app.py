"""``create_app(settings)``: the FastAPI application, built from settings (tests pass theirs).

Routes read the *published* snapshot through snapshot generations (``snapshots.py``): each
request keeps the generation it started on while the writer republishes. Tokens come from
``finops.yaml`` (``api_tokens``).
"""

from __future__ import annotations

import gc
import threading

from fastapi import FastAPI

from finops.api import assets, response_cache
from finops.api.browser import auth_error, refuse_url_tokens
from finops.api.deps import AppContext
from finops.api.errors import install_error_handlers
from finops.api.identity import Authenticator
from finops.api.limits import BodyLimit
from finops.api.metrics import Metrics, middleware
from finops.api.response_cache import ResponseCache
from finops.api.routes import (
    alerts,
    allocation,
    backstage,
    budgets,
    coverage,
    dashboards,
    efficiency,
    governance,
    health,
    metrics,
    movers,
    signin,
    slack,
    sql,
    teams,
    unowned,
    unowned_items,
)
from finops.api.snapshots import ReaderLimits, SnapshotManager
from finops.sandbox import Sandbox
from finops.settings import Settings
from models.config import FinOpsConfig, load_config
from models.errors import AuthError

DESCRIPTION = """Every dollar of the bill attributed to a team, or to unowned spend with a reason.

Send `Authorization: Bearer <token>` (tokens are declared, hashed, in finops.yaml).
People sign in once at `/signin` for a session cookie, or come through an SSO proxy.
Roles: `finance` (all teams, no SQL), `team:<name>` (that team only, everywhere),
`platform` (everything, including `POST /api/sql`). Every error has the body
`{"ok": false, "error": "...", "errors": [...], "status": N}`.
"""


def build_context(settings: Settings, config: FinOpsConfig | None = None, *,
                  open_access: bool = False) -> AppContext:
    config = config if config is not None else load_config(settings.config_source().path)
    sandbox = Sandbox(settings.snapshot_path, settings.sql)
    return AppContext(settings=settings, config=config,
                      auth=Authenticator(settings, config, open_access=open_access),
                      sandbox=sandbox, snapshots=snapshot_manager(settings),
                      metrics=Metrics(), responses=ResponseCache(settings.api.cache_mb * 2**20))


def snapshot_manager(settings: Settings) -> SnapshotManager:
    limits = ReaderLimits(memory_limit=settings.reader.memory_limit,
                          threads=settings.reader.threads)
    return SnapshotManager(settings.snapshot_path, limits,
                           check_interval_s=settings.reader.check_interval_ms / 1000)


def create_app(settings: Settings, config: FinOpsConfig | None = None, *,
               open_access: bool = False) -> FastAPI:
    """The API. ``config`` defaults to the finops.yaml ``settings`` resolve to;
    ``open_access`` (``finops serve --no-auth``) makes every request the local platform."""
    ctx = build_context(settings, config, open_access=open_access)
    app = FastAPI(title="finops", description=DESCRIPTION, version="0.1.0",
                  docs_url="/docs", redoc_url=None)
    app.state.ctx = ctx
    install_error_handlers(app)
    app.add_exception_handler(AuthError, auth_error)  # browsers get the sign-in page
    # innermost first: a token in the URL is refused before the cache is looked at
    app.middleware("http")(response_cache.middleware(ctx.responses, ctx.metrics))
    app.middleware("http")(refuse_url_tokens)
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)
    app.middleware("http")(middleware(ctx.metrics))  # outermost: it counts the 413s too
    for module in (health, metrics, allocation, teams, unowned_items, unowned, coverage,
                   budgets, alerts, slack, sql, governance, backstage, movers, dashboards,
                   efficiency, signin):
        app.include_router(module.router)
    app.include_router(governance.pages)
    # SQL workers start with the server (in the background), so the first query finds them.
    app.router.add_event_handler("startup", ctx.sandbox.start)
    app.router.add_event_handler("startup", lambda: threading.Thread(
        target=assets.prepare, name="assets", daemon=True).start())
    app.router.add_event_handler("shutdown", ctx.sandbox.close)
    app.router.add_event_handler("shutdown", ctx.snapshots.close)
    return app


def settle_heap() -> None:
    """For the server process only (``finops serve`` adds it to start-up; not in
    ``create_app``: a process that builds many apps, such as the tests, would keep every
    frozen one). Moves what start-up allocated (the app, its routes, plotly's and pydantic's
    tables: ~110,000 objects on the demo) out of the collector's reach, and collects less
    often: a full collection walked all of it (~70 ms) on the event loop, and that stall was
    the p99 of every route under 20 clients (benchmarks/README.md, serving)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)

"""``create_app(settings)``: the FastAPI application, built from settings (tests pass theirs).

Readers open the *published* snapshot read-only through one sandbox connection that is
reopened when the writer republishes. Tokens come from ``finops.yaml`` (``api_tokens``).
"""

from __future__ import annotations

from fastapi import FastAPI

from finops.api.auth import TokenStore
from finops.api.deps import AppContext
from finops.api.errors import install_error_handlers
from finops.api.metrics import Metrics, middleware
from finops.api.reader import Reader
from finops.api.routes import (
    alerts,
    allocation,
    budgets,
    coverage,
    dashboards,
    health,
    metrics,
    sql,
    teams,
    unowned,
)
from finops.sandbox import Sandbox
from finops.settings import Settings
from models.config import FinOpsConfig, load_config

DESCRIPTION = """Every dollar of the bill attributed to a team, or to unowned spend with a reason.

Send `Authorization: Bearer <token>` (tokens are declared, hashed, in finops.yaml).
Roles: `finance` (all teams, no SQL), `team:<name>` (that team only, everywhere),
`platform` (everything, including `POST /api/sql`). Every error has the body
`{"ok": false, "error": "...", "errors": [...], "status": N}`.
"""


def build_context(settings: Settings, config: FinOpsConfig | None = None) -> AppContext:
    config = config if config is not None else load_config(settings.config)
    sandbox = Sandbox(settings.snapshot_path, settings.sql)
    return AppContext(settings=settings, config=config, tokens=TokenStore(config),
                      sandbox=sandbox, reader=Reader(sandbox), metrics=Metrics())


def create_app(settings: Settings, config: FinOpsConfig | None = None) -> FastAPI:
    """The API. ``config`` defaults to ``finops.yaml`` at ``settings.config``."""
    ctx = build_context(settings, config)
    app = FastAPI(title="finops", description=DESCRIPTION, version="0.1.0",
                  docs_url="/docs", redoc_url=None)
    app.state.ctx = ctx
    install_error_handlers(app)
    app.middleware("http")(middleware(ctx.metrics))
    for module in (health, metrics, allocation, teams, unowned, coverage, budgets, alerts, sql,
                   dashboards):
        app.include_router(module.router)
    # SQL workers start with the server (in the background), so the first query finds them.
    app.router.add_event_handler("startup", ctx.sandbox.start)
    app.router.add_event_handler("shutdown", ctx.sandbox.close)
    return app

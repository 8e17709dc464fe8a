"""``finops serve``: the API and dashboards over the published warehouse (uvicorn)."""

from __future__ import annotations

import logging

import typer

from finops.api.redact import RedactTokens
from finops.cli.common import app, note, state
from finops.settings import Settings


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the API in this process until interrupted (the demo calls this too)."""
    import uvicorn

    from finops.api import create_app

    host = host or settings.api.host
    port = port or settings.api.port
    application = create_app(settings)  # fails here, before binding, on a bad finops.yaml
    # proxy_headers off: which peers may speak for a client (X-Forwarded-*) is finops's own
    # setting (FINOPS_AUTH__TRUSTED_PROXIES), not uvicorn's default trust of 127.0.0.1.
    config = uvicorn.Config(application, host=host, port=port, log_level="info",
                            proxy_headers=False)
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())  # after uvicorn's dictConfig
    base = f"http://{host}:{port}"
    note(f"Serving {base}  (docs {base}/docs, sign in at {base}/signin)")
    uvicorn.Server(config).run()


@app.command("serve")
def serve_command(
    host: str | None = typer.Option(None, "--host", help="Bind address (env FINOPS_API__HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port (env FINOPS_API__PORT)."),
) -> None:
    """Serve the API, dashboards and the SQL endpoint over the published snapshot."""
    serve(state.settings, host=host, port=port)

"""``finops serve``: the API and dashboards over the published warehouse (uvicorn)."""

from __future__ import annotations

import logging
import re

import typer

from finops.cli.common import app, note, state
from finops.settings import Settings

_TOKEN_PARAM = re.compile(r"([?&]token=)[^&\s]*")


class RedactTokens(logging.Filter):
    """Dashboard links carry ``?token=``; access-log lines must not (secrets are never logged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_PARAM.sub(r"\1***", a) if isinstance(a, str) else a
                                for a in record.args)
        record.msg = _TOKEN_PARAM.sub(r"\1***", str(record.msg))
        return True


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the API in this process until interrupted (the demo calls this too)."""
    import uvicorn

    from finops.api import create_app

    host = host or settings.api.host
    port = port or settings.api.port
    application = create_app(settings)  # fails here, before binding, on a bad finops.yaml
    config = uvicorn.Config(application, host=host, port=port, log_level="info")
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())  # after uvicorn's dictConfig
    base = f"http://{host}:{port}"
    note(f"Serving {base}  (docs {base}/docs, dashboards {base}/dashboards?token=…)")
    uvicorn.Server(config).run()


@app.command("serve")
def serve_command(
    host: str | None = typer.Option(None, "--host", help="Bind address (env FINOPS_API__HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port (env FINOPS_API__PORT)."),
) -> None:
    """Serve the API, dashboards and the SQL endpoint over the published snapshot."""
    serve(state.settings, host=host, port=port)

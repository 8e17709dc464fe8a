"""``finops serve``: the API and dashboards over the published warehouse (uvicorn)."""

from __future__ import annotations

import ipaddress
import logging

import typer

from finops.api.auth import auth_configured
from finops.api.redact import RedactTokens
from finops.cli.common import app, note, state
from finops.settings import Settings
from models.config import FinOpsConfig
from models.errors import ConfigError


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or ``localhost``: reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to anything


def require_auth(config: FinOpsConfig, host: str, no_auth: bool) -> None:
    """Refuse to serve with no way to authenticate, and ``--no-auth`` beyond loopback."""
    if no_auth and not is_loopback(host):
        raise ConfigError(f"--no-auth makes every request the platform role, so it serves on "
                          f"a loopback address only (127.0.0.1, ::1, localhost), not {host!r}")
    if not no_auth and not auth_configured(config):
        raise ConfigError(
            "refusing to serve with no way to authenticate: the config declares no "
            "api_tokens and no sso groups. Add api_tokens (or sso.groups behind a trusted "
            "proxy) to finops.yaml (`finops config check` shows the "
            "config in use), or look on this machine only with `finops serve --no-auth` "
            "(loopback addresses only)")


def _warn_open_access(base: str) -> None:
    note(f"[bold red]WARNING: --no-auth: authentication is OFF on {base}.[/] Every request is "
         "the local platform principal (every team's costs, SQL). Loopback only: do not "
         "forward or proxy this port.")


def serve(settings: Settings, config: FinOpsConfig, host: str | None = None,
          port: int | None = None, *, no_auth: bool = False) -> None:
    """Run the API in this process until interrupted (the demo calls this too)."""
    import uvicorn

    from finops.api import create_app
    from finops.api.app import settle_heap

    host = host or settings.api.host
    port = port or settings.api.port
    require_auth(config, host, no_auth)
    application = create_app(settings, config, open_access=no_auth)  # fails before binding
    application.router.add_event_handler("startup", settle_heap)
    # proxy_headers off: which peers may speak for a client (X-Forwarded-*) is finops's own
    # setting (FINOPS_AUTH__TRUSTED_PROXIES), not uvicorn's default trust of 127.0.0.1.
    server = uvicorn.Config(application, host=host, port=port, log_level="info",
                            proxy_headers=False, timeout_keep_alive=settings.api.keep_alive_s)
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())  # after uvicorn's dictConfig
    base = f"http://{host}:{port}"
    if no_auth:
        _warn_open_access(base)
    entry = f"dashboards {base}/dashboards/" if no_auth else f"sign in at {base}/signin"
    note(f"Serving {base}  (docs {base}/docs, {entry})")
    uvicorn.Server(server).run()


@app.command("serve")
def serve_command(
    host: str | None = typer.Option(None, "--host", help="Bind address (env FINOPS_API__HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port (env FINOPS_API__PORT)."),
    no_auth: bool = typer.Option(
        False, "--no-auth", help="No tokens: every request is the local platform role. "
        "Loopback addresses only; for a look on this machine."),
) -> None:
    """Serve the API, dashboards and the SQL endpoint over the published snapshot."""
    serve(state.settings, state.finops_config(), host=host, port=port, no_auth=no_auth)

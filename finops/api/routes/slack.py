"""POST /api/slack/interactions: the Acknowledge and Snooze buttons of alert messages.

Authenticated by Slack's request signature alone (``finops.alerts.interactions.verify``: the
signing secret ``FINOPS_SLACK__SIGNING_SECRET``, a timestamp within 5 minutes, a constant-time
compare), deliberately not by a finops token, session or CSRF check: Slack holds none of
them, and the signature proves more than an Origin header could (a browser cannot make it).
The press is stored in the interactions store (not the warehouse: the API never takes the
writer lock), and the message is replaced through its ``response_url`` to show who pressed.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, BackgroundTasks, Request

from finops.alerts import interactions
from finops.api.deps import ContextDep
from models.api import InteractionResponse
from models.errors import NotConfigured

router = APIRouter(prefix="/api", tags=["slack"])
log = logging.getLogger("finops.api.slack")


@router.post("/slack/interactions", response_model=InteractionResponse)
async def interaction(request: Request, ctx: ContextDep,
                      background: BackgroundTasks) -> InteractionResponse:
    """A button press from Slack (form field `payload`, signed by Slack)."""
    secret = ctx.settings.slack.signing_secret
    if secret is None:
        raise NotConfigured("Slack interactions are not configured: set "
                            "FINOPS_SLACK__SIGNING_SECRET (the Slack app's signing secret)")
    body = await request.body()
    interactions.verify(secret.get_secret_value().encode(),
                        request.headers.get("x-slack-request-timestamp"),
                        request.headers.get("x-slack-signature"), body, time.time())
    payload = interactions.parse(body)
    now = datetime.now(UTC).replace(tzinfo=None)
    press = interactions.press_of(payload, ctx.config, now)
    if press is None:
        return InteractionResponse(ok=True, recorded=None)
    interactions.InteractionStore(ctx.settings.interactions_path).record(press)
    shown = interactions.acknowledged_message(payload, press, now)
    url = str(payload.get("response_url") or "")
    if shown and url.startswith(ctx.settings.slack.response_url_prefix):
        background.add_task(_replace, url, shown, ctx.settings.slack.timeout_s)
    return InteractionResponse(ok=True, recorded=press["action"])


def _replace(url: str, message: dict[str, Any], timeout_s: float) -> None:
    """Show the press in the message (best effort: the next check updates it anyway)."""
    try:
        httpx.post(url, json=message, timeout=timeout_s)
    except httpx.HTTPError as exc:
        log.warning("could not update the pressed Slack message: %s", exc)

"""``POST /hooks/alertmanager``: Alertmanager's webhook (version 4) into the engine.

Behind its own bearer token (``[alertmanager] token_env``), on loopback too: Alertmanager's
``http_config.authorization`` sends it. The web token gate leaves this route to it, since
Alertmanager sends one Authorization header. Alertmanager retries any 5xx, so the answer is a
2xx once the delivery is recorded (or known stale), a 4xx for what no retry can fix: a wrong
token, a body that is not a version 4 payload.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from bot import messages
from bot.errors import AlertPayloadInvalid
from checks.bodies import read_capped

log = logging.getLogger(__name__)

PATH = "/hooks/alertmanager"
MAX_BODY = 4 << 20  # a group of thousands of alerts stays well under this


class AlertReceiver(Protocol):
    """What the hook hands a delivery to (``bot.engine.external_alerts.ExternalAlerts``)."""

    def receive(self, payload: Any) -> tuple[int, int]: ...


def alertmanager_hook(
    receiver: AlertReceiver, token: str | None, token_env: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The route's handler; with no ``token`` every POST is refused, naming the variable."""
    expected = f"Bearer {token}".encode() if token else None

    async def hook(request: web.Request) -> web.Response:
        if expected is None:
            return _refuse(401, messages.alertmanager_token_unset(token_env))
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return _refuse(401, messages.alertmanager_token_refused())
        body = await read_capped(request.content, MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return _refuse(413, messages.alertmanager_bad_payload("the body is too large"))
        try:
            alerts, recorded = receiver.receive(json.loads(body))
        except ValueError as exc:  # not JSON, or AlertPayloadInvalid
            why = str(exc) if isinstance(exc, AlertPayloadInvalid) else f"not JSON: {exc}"
            log.warning(why)
            return _refuse(400, why)
        return web.json_response(
            {"alerts": alerts, "recorded": recorded},
            headers={"X-Selfreg-Note": messages.alertmanager_received(alerts, recorded)},
        )

    return hook


def _refuse(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status)

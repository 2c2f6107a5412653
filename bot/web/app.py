"""The aiohttp application: routes, the token gate for non-loopback binds, and the
management API under /api/v1 with its own tokens."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry

from bot.web.api import ApiContext, add_api_routes, api_gate
from bot.web.dashboard import Dashboard, dashboard_gate
from bot.web.metrics import render


class WebBackend(Protocol):
    """What the routes ask the running engine."""

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(alive, body): alive when the scheduler runs and the store is writable."""
        ...

    def status(self) -> dict[str, Any]:
        """The status document (see ``bot.engine.status``)."""
        ...


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


OPEN_ROUTES = frozenset({"/health", "/slack/events", "/hooks/alertmanager"})
"""Routes the token gate leaves open: liveness, Slack's signed requests (Bolt checks them) and
Alertmanager's webhook (behind its own token: ``bot.web.alertmanager``)."""

API_PATHS = "/api/"
"""Paths the management API gates itself (``bot.web.api.auth``: its own tokens, always)."""


def token_gate(token: str) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Middleware: every route but the open ones needs ``Authorization: Bearer <token>``."""
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in OPEN_ROUTES and not request.path.startswith(API_PATHS):
            given = request.headers.get("Authorization", "").encode()
            bearer = hmac.compare_digest(given, expected)
            if request.path.startswith("/dashboard") and not bearer:
                if (answer := dashboard_gate(request, token)) is not None:
                    return answer
            elif not bearer:
                return web.json_response(
                    {"error": "this route needs Authorization: Bearer <SELFREG_WEB_TOKEN>"},
                    status=401,
                )
        return await handler(request)

    return gate


def build_app(
    backend: WebBackend,
    registry: CollectorRegistry,
    token: str | None,
    slack_events: Handler | None = None,
    *,
    dashboard: Dashboard | None = None,
    hooks: dict[str, Handler] | None = None,
    api: ApiContext | None = None,
) -> web.Application:
    """The web application; with a ``token`` every route but /health is gated.

    The runtime refuses to bind beyond loopback without one; on loopback a token, when
    set, still applies, so setting it never leaves a route open by surprise. The
    ``dashboard``'s pages also take its sign-in cookie instead of the header. The ``api``
    (``/api/v1``) answers only its own ``[[api.tokens]]``, with or without a web token.
    """
    middlewares = [token_gate(token)] if token else []
    if api is not None:
        middlewares.append(api_gate(API_PATHS, api.identities))
    app = web.Application(middlewares=middlewares)

    async def health(_: web.Request) -> web.Response:
        alive, body = backend.health()
        return web.json_response(body, status=200 if alive else 503)

    async def status(_: web.Request) -> web.Response:
        return web.json_response(backend.status())

    async def metrics(_: web.Request) -> web.Response:
        response = web.Response(body=render(registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app.router.add_get("/health", health)
    app.router.add_get("/status", status)
    app.router.add_get("/metrics", metrics)
    if slack_events is not None:
        app.router.add_post("/slack/events", slack_events)
    if dashboard is not None:
        dashboard.add_routes(app)
    for path, hook in (hooks or {}).items():
        app.router.add_post(path, hook)
    if api is not None:
        add_api_routes(app, api)
    return app

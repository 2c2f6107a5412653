"""The management API: a versioned JSON API under ``/api/v1`` on selfreg's web server.

Its own door beside Slack and the terminal: each ``[[api.tokens]]`` identity acts as the
approver id it names, with its roles (``read``, ``operate``, ``approve``); what it changes
goes through ``bot.engine.requests`` like the terminal's requests, so the policy gate, the
permissions and the audit trail (door ``api``) are the same. Modules: ``openapi`` (the routes
as data and the OpenAPI document), ``auth`` (tokens, roles), ``reads`` and ``acts`` (the
handlers), ``summary`` (the health summary), ``errors`` and ``answers`` (the JSON shapes).
"""

from __future__ import annotations

from aiohttp import web

from bot.web.api.acts import act_handlers
from bot.web.api.answers import reply
from bot.web.api.auth import api_gate, guarded
from bot.web.api.context import ApiContext
from bot.web.api.openapi import PREFIX, ROUTES, document
from bot.web.api.reads import read_handlers

__all__ = ["PREFIX", "ApiContext", "add_api_routes", "api_gate"]


def add_api_routes(app: web.Application, api: ApiContext) -> None:
    """Register every route of ``openapi.ROUTES`` under ``/api/v1``, each behind its role.
    (``api_gate``, the token check, is a middleware the app is built with.)"""
    spec = document(api.version)

    async def openapi(_: web.Request) -> web.Response:
        return reply(spec)

    handlers = {**read_handlers(api), **act_handlers(api), "openapi": openapi}
    for route in ROUTES:
        path = PREFIX + route.path.replace("{id}", r"{id:\d+}")
        app.router.add_route(route.method, path, guarded(handlers[route.operation], route.role))

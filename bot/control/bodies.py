"""What a control-socket request carries: a JSON object body and ids in its path, each
refused with a 400 or 404 that says why (never a 500 with a traceback)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot import messages
from bot.errors import BadCommand

MAX_ID = 2**63 - 1  # SQLite's integers stop here: a larger id names nothing


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body); anything else is a 400 that says so."""
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(str(exc)) from None
    if not isinstance(body, dict):
        raise _bad(type(body).__name__)
    return body


def body_incident(body: dict[str, Any]) -> int | None:
    """The ``incident`` a request body names: None when absent, else a whole number in
    SQLite's range; anything else (text, a list, a float, a bool) is ``BadCommand`` (a 400
    that says so), raised before anything is recorded."""
    value = body.get("incident")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise BadCommand(messages.api_bad_incident(value))
    return value


def path_id(request: web.Request) -> int:
    """The ``{id}`` of the route (digits by its pattern); past SQLite's range: 404."""
    value = int(request.match_info["id"])
    if value > MAX_ID:
        raise web.HTTPNotFound(
            text=json.dumps({"error": messages.refusal_unknown_proposal(str(value))}),
            content_type="application/json",
        )
    return value


def _bad(why: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=json.dumps({"error": messages.control_body_not_json(why)}),
        content_type="application/json",
    )

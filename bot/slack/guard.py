"""What selfreg does with a Slack request it cannot handle: one warning line and an answer
that says so, never a traceback per request in the log.

``POST /slack/events`` is open to anyone who reaches the web port (Slack signs, Bolt
verifies), and Bolt parses the body before it checks the signature: a body that is not
Slack's shape must be refused there, not raise inside aiohttp.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot import messages

log = logging.getLogger("bot.slack.app")


async def dispatch(app: AsyncApp, request: web.Request) -> web.StreamResponse:
    """Bolt's answer to ``request``, or a 400 naming why it cannot be read: Bolt raises on
    some shapes while reading the body, and again inside its own error handler."""
    try:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        log.warning(messages.slack_request_failed(repr(exc)))
        return web.Response(status=400, text=messages.slack_request_unreadable(repr(exc)))


async def on_error(error: Exception, response: Any) -> None:
    """Bolt's error handler (middleware and listeners): one warning line, the traceback at
    DEBUG; an answer Bolt would send as a bare 500 becomes a 400 that says why."""
    log.warning(messages.slack_request_failed(repr(error)))
    log.debug("traceback of the dropped Slack request", exc_info=error)
    if response is not None and response.status >= 500:
        response.status, response.body = 400, messages.slack_request_unreadable(repr(error))


async def well_formed(
    body: dict[str, Any], next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:
    """Bolt middleware: a click or form without the fields every listener relies on (who,
    where, which button, where to answer) is refused before any listener runs. Bolt builds a
    listener's ``respond`` and ``action`` from them, and fails there, outside the listener."""
    problem = _missing(body)
    if problem is None:
        return await next()
    log.warning(messages.slack_request_failed(problem))
    return BoltResponse(status=400, body=messages.slack_request_unreadable(problem))


def _missing(body: dict[str, Any]) -> str | None:
    kind = body.get("type")
    if kind not in ("block_actions", "view_submission"):
        return None
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "no user"
    if kind == "view_submission":
        return None if isinstance(body.get("view"), dict) else "no view"
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return "no action"
    if not isinstance(actions[0].get("action_id"), str):
        return "no action id"
    if not isinstance(body.get("response_url"), str) or not isinstance(body.get("container"), dict):
        return "no response URL or container"
    return None

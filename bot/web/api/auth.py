"""Who calls the API: a bearer token from ``[[api.tokens]]``, on every route, loopback too.

``identify`` compares the given token with every configured one in constant time (each
comparison runs, whichever matches), so the answer's timing does not tell how close a guess
was. The token itself is never logged, stored or echoed; the audit trail names the identity.
``api_gate`` is the middleware: 401 without a known token, then the route runs, and any error
is answered in the API's JSON shape. Each route's role is checked by ``guarded``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar

from aiohttp import web

from bot import messages
from bot.config.api import ApiToken, Role
from bot.records import Door
from bot.web.api.errors import ApiError, answer, internal_error

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Identities = Callable[[], tuple[Sequence[ApiToken], Mapping[str, str]]]
"""The running config's ``[[api.tokens]]`` and their tokens (identity name -> token)."""

CALLER: ContextVar[ApiToken] = ContextVar("api_caller")
"""The caller ``api_gate`` found; each request is served in its own task, so its own context."""


def _digest(token: str) -> bytes:
    """Tokens are compared as SHA-256 digests: equal lengths, so not even a token's length
    shows in the time a comparison takes."""
    return hashlib.sha256(token.encode()).digest()


def identify(header: str, entries: Sequence[ApiToken], tokens: Mapping[str, str]) -> ApiToken:
    """The identity whose token ``header`` (``Bearer <token>``) carries; ``ApiError`` 401."""
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError("unauthorized", messages.api_token_missing())
    offered = _digest(given.strip())
    found = None
    for entry in entries:
        expected = tokens.get(entry.name)
        if expected is None:
            continue
        if hmac.compare_digest(offered, _digest(expected)) and found is None:
            found = entry
    if found is None:
        raise ApiError("unauthorized", messages.api_token_unknown())
    return found


def api_gate(prefix: str, identities: Identities) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Middleware for every path under ``prefix``: a known token first, JSON errors always."""

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(prefix):
            return await handler(request)
        try:
            entries, tokens = identities()
            CALLER.set(identify(request.headers.get("Authorization", ""), entries, tokens))
            return await handler(request)
        except web.HTTPException as exc:
            found = answer(exc, request.method)
            if found is None:
                raise
            return found
        except Exception as exc:  # every failure answers in the API's shape
            found = answer(exc, request.method)
            # `is None`, not `or`: aiohttp before 3.10 makes an empty response falsy
            return found if found is not None else internal_error(exc)

    return gate


def caller() -> ApiToken:
    """The identity ``api_gate`` found for this request."""
    return CALLER.get()


def door() -> Door:
    """The audit trail's door for this request: ``api`` and the identity's name."""
    return Door("api", identity=caller().name)


def guarded(handler: Handler, role: Role) -> Handler:
    """``handler``, answering 403 ``forbidden`` unless the caller holds ``role``."""

    async def checked(request: web.Request) -> web.StreamResponse:
        who = caller()
        if not who.may(role):
            raise ApiError("forbidden", messages.api_role_missing(who.name, role.value))
        return await handler(request)

    return checked

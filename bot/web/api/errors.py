"""The API's error answers: ``{"error": {"code": "stable_code", "message": "a sentence"}}``.

``ApiError`` carries an HTTP status and a stable code; ``answer`` turns it, selfreg's own
operator errors (``bot.errors``) and aiohttp's routing errors into that one JSON shape, so a
client branches on ``code`` and shows ``message``. The codes are listed in ``CODES`` (the
OpenAPI document names them too).
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot import messages
from bot.errors import (
    BadCommand,
    IncidentClosed,
    IncidentNotFound,
    IncidentStillFailing,
    NotPermitted,
    SilenceNotFound,
    UnknownAction,
    UnknownCheck,
    UnknownComponent,
    UnknownProposal,
    UserError,
)
from bot.web.api.answers import dumps

log = logging.getLogger(__name__)

CODES: dict[str, int] = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_permitted": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "already_decided": 409,
    "incident_closed": 409,
    "still_failing": 409,
    "refused_by_policy": 422,
    "internal_error": 500,
}
"""Every stable error code and its HTTP status."""

_BY_ERROR: tuple[tuple[type[UserError], str], ...] = (
    (NotPermitted, "not_permitted"),
    (BadCommand, "bad_request"),
    (IncidentClosed, "incident_closed"),
    (IncidentStillFailing, "still_failing"),
    (IncidentNotFound, "not_found"),
    (SilenceNotFound, "not_found"),
    (UnknownProposal, "not_found"),
    (UnknownComponent, "not_found"),
    (UnknownCheck, "not_found"),
    (UnknownAction, "not_found"),
)


class ApiError(Exception):
    """An answer other than success: its stable ``code`` (a key of ``CODES``) and sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = CODES[code]


def error_response(code: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=CODES[code], dumps=dumps
    )


def internal_error(exc: Exception) -> web.Response:
    """A failure of selfreg itself: logged with its trace, answered without it."""
    log.error(messages.api_internal_error_logged(), exc_info=exc)
    return error_response("internal_error", messages.api_internal_error())


def answer(exc: Exception, method: str) -> web.Response | None:
    """The JSON error for ``exc``, or None when it is not one the API answers for."""
    if isinstance(exc, ApiError):
        return error_response(exc.code, str(exc))
    if isinstance(exc, UserError):
        fallback = "not_found" if type(exc) is UserError else "bad_request"  # e.g. no actions
        code = next((c for kind, c in _BY_ERROR if isinstance(exc, kind)), fallback)
        return error_response(code, str(exc))
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return error_response("method_not_allowed", messages.api_method_not_allowed(method))
    if isinstance(exc, web.HTTPNotFound):
        return error_response("not_found", messages.api_not_found())
    return None

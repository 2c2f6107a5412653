"""What the API's routes act on and read, handed in by the runtime (``bot.runtime``)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import messages
from bot.engine.requests import Requests
from bot.web.api.auth import Identities
from bot.web.api.errors import ApiError
from bot.web.dashboard_data import Reader
from checks.base import Observation

RunChecks = Callable[[Sequence[str] | None], Awaitable[list[Observation]]]
"""Run checks once now, recording nothing (``Runtime.run_checks``)."""


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class ApiContext:
    """The running selfreg as the API sees it.

    ``requests``: what people ask (shared with the terminal's door); ``reader``: the
    dashboard's read-only store on its worker thread (reads never block the checks' loop);
    ``status``: the status document (live states, the supervisor's components);
    ``check_kinds``: each configured check's kind; ``identities``: ``[[api.tokens]]``.
    """

    requests: Requests
    reader: Reader
    identities: Identities
    status: Callable[[], dict[str, Any]]
    run_checks: RunChecks
    check_kinds: Callable[[], Mapping[str, str]]
    data_dir: Path
    version: str

    def now(self) -> float:
        return self.requests.alerting.clock.now()


def number(request: web.Request, name: str, default: float) -> float:
    """A query parameter read as a number; ``ApiError`` 400 when it is not one."""
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ApiError("bad_request", messages.api_bad_number(name, text))
    return value


def whole(request: web.Request, name: str, default: int, most: int) -> int:
    """A query parameter read as a whole number in 1..``most``; ``ApiError`` 400 otherwise."""
    value = number(request, name, default)
    if value != int(value) or not 1 <= value <= most:
        raise ApiError("bad_request", messages.api_bad_range(name, most, str(value)))
    return int(value)


def path_id(request: web.Request) -> int:
    """The ``{id}`` of the path (the router lets only digits through)."""
    return int(request.match_info["id"])


async def body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is ``{}``); ``ApiError`` 400 otherwise."""
    if not request.can_read_body:
        return {}
    try:
        found = await request.json()
    except ValueError:
        raise ApiError("bad_request", messages.api_bad_json()) from None
    if not isinstance(found, dict):
        raise ApiError("bad_request", messages.api_bad_json())
    return found

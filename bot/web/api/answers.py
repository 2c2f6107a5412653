"""The API's success answers: selfreg's records (dataclasses, enums, mappings) as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from aiohttp import web


def _plain(value: Any) -> Any:
    """A record as JSON sees it: a dataclass by its fields, a mapping as a dict, else text."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def dumps(value: Any) -> str:
    """JSON for every answer (records by their fields, enums as their value)."""
    return json.dumps(value, default=_plain)


def reply(body: Mapping[str, Any], status: int = 200) -> web.Response:
    return web.json_response(dict(body), status=status, dumps=dumps)

"""The app's own health endpoint, as the ``fly`` check reads it: status, response time, and
the numbers the app chooses to report (memory, CPU ...), since the Machines API reports none.

One GET per run, no redirects followed, at most 1 MiB of body read. ``fields`` maps a value
name to a dotted path in a JSON body (``memory_mb = "memory.rss_mb"``); a field that is
missing or not a number is simply not recorded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp

from checks.base import Status, Threshold
from checks.bodies import read_capped
from checks.http import _json_lookup as json_lookup
from checks.thresholds import describe_ms
from common.units import format_duration

_MAX_BODY = 1 << 20


@dataclass(frozen=True, kw_only=True, slots=True)
class Health:
    """What one request to the health endpoint came to."""

    status: Status
    text: str
    values: dict[str, float] = field(default_factory=dict)


def _numbers(body: bytes, fields: Mapping[str, str]) -> dict[str, float]:
    """The configured fields of a JSON body that hold numbers."""
    if not fields:
        return {}
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    found = {}
    for name, path in fields.items():
        present, value = json_lookup(document, path)
        if present and isinstance(value, int | float) and not isinstance(value, bool):
            found[name] = float(value)
    return found


async def fetch_health(
    http: aiohttp.ClientSession,
    url: str,
    timeout: float,
    limits: Threshold,
    fields: Mapping[str, str],
) -> Health:
    """GET ``url`` once: a 2xx within ``limits`` is ok, other answers critical."""
    started = time.perf_counter()
    try:
        async with http.get(
            url, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as response:
            body = await read_capped(response.content, _MAX_BODY)
            code = response.status
    except TimeoutError:
        return Health(
            status=Status.CRITICAL, text=f"health: no answer within {format_duration(timeout)}"
        )
    except aiohttp.ClientError as exc:
        return Health(status=Status.CRITICAL, text=f"health: {type(exc).__name__}")
    elapsed = time.perf_counter() - started
    status = limits.status(elapsed) if 200 <= code < 300 else Status.CRITICAL
    values = {"response_ms": elapsed * 1000, **_numbers(body, fields)}
    return Health(
        status=status, text=f"health HTTP {code} in {describe_ms(elapsed)}", values=values
    )

"""Is a freshly started component ready? One probe, and waiting for it with a deadline.

A probe is an HTTP GET that answers 2xx/3xx, a TCP connection that is accepted, or just a
running process. The first probe goes at once, the next 10 ms later, and the pause grows by
half each time up to half a second: a fast component is seen ready within milliseconds and a
slow one costs few wake-ups.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import aiohttp

from bot.config import HealthSettings

FIRST_PROBE_AFTER = 0.01
PROBE_EVERY_MAX = 0.5
PROBE_TIMEOUT = 2.0


async def probe(
    health: HealthSettings, http: aiohttp.ClientSession | None, timeout: float = PROBE_TIMEOUT
) -> bool:
    """One attempt: True when the component answers as ready now."""
    try:
        if health.tcp is not None:
            return await asyncio.wait_for(_tcp(health.tcp), timeout)
        if health.http is not None:
            assert http is not None, "an http health check needs a session"
            return await asyncio.wait_for(_http(health.http, http), timeout)
    except (OSError, TimeoutError, aiohttp.ClientError):
        return False
    return True  # process = true: running is ready


async def _tcp(address: str) -> bool:
    host, _, port = address.rpartition(":")
    _, writer = await asyncio.open_connection(host.strip("[]"), int(port))
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _http(url: str, http: aiohttp.ClientSession) -> bool:
    async with http.get(url, allow_redirects=False) as response:
        return response.status < 400


async def wait_ready(
    health: HealthSettings | None,
    http: aiohttp.ClientSession | None,
    alive: Callable[[], bool],
) -> bool:
    """Probe until ready (True), or until the health timeout or the process's end (False)."""
    if health is None or health.process:
        return alive()
    deadline = time.monotonic() + health.timeout
    pause = FIRST_PROBE_AFTER
    while alive():
        left = deadline - time.monotonic()
        if await probe(health, http, min(PROBE_TIMEOUT, max(left, 0.01))):
            return alive()
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 1.5, PROBE_EVERY_MAX)
    return False

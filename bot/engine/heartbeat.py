"""The heartbeat: a GET of ``SELFREG_HEARTBEAT_URL`` every ``[heartbeat] every`` while selfreg runs.

A dead-man's switch (healthchecks.io, Cronitor, Uptime Kuma's push monitor) alerts when the
pings stop: the one alert selfreg cannot send about itself is that it died. While
``/health`` is failing the ping goes to ``URL/fail`` (healthchecks.io's convention), so a
selfreg whose scheduler or store broke is reported at once instead of after the grace time.

Its own asyncio task, not a scheduler job: a dead scheduler is one of the failures it reports.
Failures are logged and never fatal; the URL is a secret (anyone holding it can fake pings),
so logs show only its scheme and host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiohttp
from yarl import URL

from bot import messages

log = logging.getLogger(__name__)


def redacted(url: str) -> str:
    """``https://hc-ping.com/…``: enough to tell which service, not enough to ping it."""
    try:
        parsed = URL(url)
    except ValueError:
        return "…"
    return f"{parsed.scheme}://{parsed.host}/…"


def ping_url(url: str, healthy: bool) -> str:
    """The URL to GET: ``url`` itself, or ``url/fail`` while selfreg is unhealthy."""
    return url if healthy else url.rstrip("/") + "/fail"


class Heartbeat:
    """Pings ``url`` every ``every`` seconds through the shared session."""

    def __init__(
        self,
        url: str,
        http: aiohttp.ClientSession,
        healthy: Callable[[], bool],
        *,
        every: float,
        timeout: float,
    ) -> None:
        self.url = url
        self.http = http
        self.healthy = healthy
        self.every = every
        self.timeout = timeout
        self.running = False  # /status names the heartbeat once it pings
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None

    async def run(self) -> None:
        """Ping at once, then every ``every`` seconds, until cancelled."""
        self.running = True
        while True:
            await self.ping()
            await asyncio.sleep(self.every)

    async def ping(self) -> bool:
        """One ping; True when the far end answered 2xx. Never raises (but on cancel)."""
        try:
            healthy = self.healthy()
        except Exception:  # a broken health probe is itself unhealthy
            healthy = False
        target = ping_url(self.url, healthy)
        try:
            async with self.http.get(
                target, timeout=aiohttp.ClientTimeout(total=self.timeout), allow_redirects=True
            ) as response:
                await response.read()
                if response.status >= 300:
                    raise aiohttp.ClientResponseError(
                        response.request_info, (), status=response.status
                    )
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            self.failed += 1
            self.last_error = _error(exc)
            log.warning("heartbeat to %s failed: %s", redacted(self.url), self.last_error)
            return False
        self.sent += 1
        if self.last_error is not None:
            log.info("heartbeat to %s works again", redacted(self.url))
        self.last_error = None
        return True

    def reconfigure(self, *, every: float, timeout: float) -> None:
        """A live reload's ``[heartbeat]`` period and timeout (the URL needs a restart)."""
        self.every = every
        self.timeout = timeout


def _error(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientResponseError):
        return messages.ping_http_status(exc.status)
    if isinstance(exc, TimeoutError):
        return messages.ping_timed_out()
    if isinstance(exc, aiohttp.ClientConnectorError):  # host and port only, never the path
        return messages.ping_unreachable(exc.host, exc.port, exc.os_error.strerror)
    # the text of a connection error may carry the URL: keep the type and errno only
    errno = getattr(exc, "errno", None)
    return messages.ping_error(type(exc).__name__, errno)

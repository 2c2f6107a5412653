"""When an https endpoint's certificate expires: one TLS handshake, read at most hourly.

The HTTP response does not reliably keep its connection (aiohttp releases a small response's
connection before the caller can look at it), so the expiry comes from a handshake of its own.
Expiry moves slowly, so the check refreshes it once an hour and subtracts the clock between.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from urllib.parse import urlsplit

REFRESH_EVERY = 3600.0


async def certificate_expiry(url: str, context: ssl.SSLContext, timeout: float) -> float | None:
    """The certificate's notAfter (epoch seconds) for ``url``; None when it cannot be read."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host), timeout
        )
    except (OSError, TimeoutError, ssl.SSLError):
        return None
    try:
        cert = writer.get_extra_info("peercert") or {}
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    not_after = cert.get("notAfter")
    return ssl.cert_time_to_seconds(not_after) if not_after else None


class CertificateWatch:
    """Caches a URL's certificate expiry and refreshes it every ``REFRESH_EVERY`` seconds."""

    def __init__(self, url: str, context: ssl.SSLContext) -> None:
        self.url = url
        self.context = context
        self._expires_at: float | None = None
        self._read_at = float("-inf")

    async def days_left(self, now: float, timeout: float) -> float | None:
        """Days until expiry at ``now``; None when the certificate could not be read."""
        if now - self._read_at >= REFRESH_EVERY:
            self._expires_at = await certificate_expiry(self.url, self.context, timeout)
            self._read_at = now if self._expires_at is not None else float("-inf")
        if self._expires_at is None:
            return None
        return (self._expires_at - now) / 86400

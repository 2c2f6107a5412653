"""The webhook channel: one signed JSON POST per loud incident event.

Receivers verify ``X-Selfreg-Signature: sha256=HMAC(secret, "<timestamp>.<body>")`` and may
refuse old timestamps to stop replays; ``id`` (also ``X-Selfreg-Delivery``) is the outbox row,
the same on every retry, so a receiver can drop a delivery it has already seen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math

import aiohttp
from yarl import URL

from bot import messages
from bot.clock import Clock, SystemClock
from bot.config.alerts import WebhookChannel
from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify.base import OutboxMessage

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=10)
MAX_RETRY_AFTER = 3600.0  # a receiver asking for days would silence this channel that long


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Selfreg-Signature`` value: ``sha256=`` and the hex HMAC of ``timestamp.body``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header; None when absent or an HTTP date (backoff then)."""
    try:
        seconds = float(value or "")
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER) if math.isfinite(seconds) else None


class WebhookNotifier:
    """POSTs ``{notice, text, mentions, incident, at, id}`` to ``settings.url``."""

    name = "webhook"

    def __init__(
        self,
        settings: WebhookChannel,
        secret: str | None,
        http: aiohttp.ClientSession,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self._secret = secret
        self.http = http
        self.clock = clock or SystemClock()
        # Reasons and logs name only the origin: a URL's path or query often holds a token.
        self.where = str(URL(settings.url).origin())

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.where!r})"

    async def deliver(self, message: OutboxMessage) -> None:
        """POST one event; ``DeliveryError`` / ``PermanentDeliveryError`` as classed below."""
        if message.kind != "incident.notice":
            return
        at = self.clock.now()
        timestamp = str(int(at))
        body = json.dumps({**message.payload, "at": at, "id": message.id}).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Selfreg-Timestamp": timestamp,
            "X-Selfreg-Delivery": str(message.id),
        }
        if self._secret:
            headers["X-Selfreg-Signature"] = signature(self._secret, timestamp, body)
        try:
            async with self.http.post(
                self.settings.url,
                data=body,
                headers=headers,
                timeout=TIMEOUT,
                allow_redirects=False,
            ) as response:
                if 200 <= response.status < 300:
                    log.info(messages.row_posted(message.id, self.where))
                    return
                raise await self._refused(response)
        except aiohttp.ClientConnectorCertificateError as exc:
            # An untrusted or wrong-host certificate is a setting or a server to fix, not a blip.
            raise PermanentDeliveryError(
                self.name, messages.certificate_untrusted(self.where, str(exc.certificate_error))
            ) from exc
        except aiohttp.InvalidURL as exc:
            # The configured URL cannot be requested at all; only an operator can change it.
            raise PermanentDeliveryError(
                self.name, messages.webhook_unreachable(self.where, messages.error_text(exc))
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Refused or reset connections, DNS failures and the 10 s timeout: the receiver or
            # the network is down for now.
            raise DeliveryError(
                self.name, messages.webhook_unreachable(self.where, messages.error_text(exc))
            ) from exc

    async def _refused(self, response: aiohttp.ClientResponse) -> DeliveryError:
        """The error for a non-2xx answer, with the start of the body as the far end's words."""
        status = response.status
        if 300 <= status < 400:
            # Redirects are not followed: a POST redirected becomes a GET and loses its body.
            location = response.headers.get("Location", "")
            return PermanentDeliveryError(
                self.name, messages.webhook_redirected(self.where, status, location)
            )
        try:
            said = (await response.content.read(200)).decode("utf-8", "replace")
        except (aiohttp.ClientError, TimeoutError):
            said = ""
        detail = ": ".join(part for part in (response.reason or "", " ".join(said.split())) if part)
        reason = messages.webhook_answered(self.where, status, detail)
        if status in (408, 429) or status >= 500:
            # 429 asks us to slow down, 408 and 5xx are the receiver's passing trouble; the
            # far end's Retry-After, when it gives one, says when to come back.
            return DeliveryError(
                self.name, reason, retry_after(response.headers.get("Retry-After"))
            )
        # 410 Gone says the endpoint was removed on purpose; 400 (payload refused), 401/403
        # (secret or access refused) and 404 (wrong URL) will answer the same on every retry.
        return PermanentDeliveryError(self.name, reason)

"""The webhook channel: one signed JSON POST per loud incident event.

Signed as Standard Webhooks (standardwebhooks.com) asks, so receivers can use its ready-made
verifiers: ``webhook-id`` (the outbox row, the same on every retry, so a receiver can drop a
delivery it has already seen; also ``id`` in the body), ``webhook-timestamp`` (Unix seconds;
receivers refuse old ones to stop replays) and ``webhook-signature: v1,<base64 HMAC-SHA256
of "{id}.{timestamp}.{body}">``. The key is the secret's bytes after ``whsec_`` decoded from
base64 (the spec's form, which the verifiers expect); a secret without that prefix is used
as it is. A 408, 429 or 5xx is retried after the receiver's ``Retry-After``, in seconds or
as an HTTP date.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import math
from email.utils import parsedate_to_datetime

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
SECRET_PREFIX = "whsec_"


def signing_key(secret: str) -> bytes:
    """The HMAC key: ``whsec_<base64>`` decoded (Standard Webhooks), else the text's bytes."""
    if secret.startswith(SECRET_PREFIX):
        with contextlib.suppress(binascii.Error, ValueError):
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    return secret.encode()


def signature(secret: str, delivery: str, timestamp: str, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` and the base64 HMAC-SHA256 of
    ``{id}.{timestamp}.{body}``."""
    signed = f"{delivery}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110: seconds, or an HTTP date,
    counted from ``now``), at most an hour; None when absent or unreadable (back-off then)."""
    text = (value or "").strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - now
        except (TypeError, ValueError, IndexError):
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
        delivery = f"selfreg-{message.id}"
        headers = {
            "Content-Type": "application/json",
            "webhook-id": delivery,
            "webhook-timestamp": timestamp,
        }
        if self._secret:
            headers["webhook-signature"] = signature(self._secret, delivery, timestamp, body)
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
                self.name,
                reason,
                retry_after(response.headers.get("Retry-After"), self.clock.now()),
            )
        # 410 Gone says the endpoint was removed on purpose; 400 (payload refused), 401/403
        # (secret or access refused) and 404 (wrong URL) will answer the same on every retry.
        return PermanentDeliveryError(self.name, reason)

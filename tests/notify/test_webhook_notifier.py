"""The webhook channel against a real aiohttp receiver on 127.0.0.1 that checks signatures."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator, Mapping
from email.utils import formatdate
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.config.alerts import WebhookChannel
from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify.base import OutboxMessage
from bot.notify.webhook import WebhookNotifier, retry_after, signature
from tests.support.clock import FakeClock

SECRET = "whsec_" + base64.b64encode(b"selfreg-test-key-0123456789abcdef").decode()
PAYLOAD = {
    "notice": "escalated",
    "text": "Escalation step 1 of 2: still open and not acknowledged after 15 m 0 s.",
    "mentions": ["U01ONCALL", "S02SRE"],
    "incident": {
        "id": 42,
        "fingerprint": "disk|/data",
        "check": "disk",
        "subject": "/data",
        "kind": "rule",
        "severity": "error",
        "state": "open",
        "status": "critical",
        "summary": "/data is 96.1% full (threshold 95%)",
        "values": {"used_percent": 96.1},
        "opened_at": 1_700_000_000.0,
        "last_seen_at": 1_700_000_840.0,
        "resolved_at": None,
        "count": 15,
        "acked_by": None,
        "escalation_step": 1,
        "changes": [1_700_000_000.0],
        "runbook_url": None,
    },
}
NOTICE = OutboxMessage(id=7, channel="webhook", kind="incident.notice", payload=PAYLOAD, attempts=1)


def verified(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """A Standard Webhooks receiver's check, written from the spec: the key is the base64
    after ``whsec_``; any of the space-separated ``v1,<base64>`` signatures may match."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [s.partition(",")[2] for s in headers.get("webhook-signature", "").split()]
    return any(hmac.compare_digest(expected, g) for g in given if g)


class Receiver:
    """Accepts a POST only when its signature matches the shared secret (when it has one)."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret
        self.deliveries: list[tuple[dict[str, str], Any]] = []

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.secret is not None and not verified(self.secret, request.headers, body):
            return web.Response(status=401, text="bad signature")
        self.deliveries.append((dict(request.headers), json.loads(body)))
        return web.Response(status=204)


async def busy(_: web.Request) -> web.Response:
    return web.Response(status=503, text="busy", headers={"Retry-After": "7"})


async def busy_until(_: web.Request) -> web.Response:
    """Retry-After as an HTTP date: 90 s after the notifier's clock (1_700_000_900)."""
    return web.Response(status=429, headers={"Retry-After": formatdate(1_700_000_990, usegmt=True)})


async def gone(_: web.Request) -> web.Response:
    return web.Response(status=410, text="this hook was deleted")


async def moved(_: web.Request) -> web.Response:
    return web.Response(status=307, headers={"Location": "/hook"})


@contextlib.asynccontextmanager
async def receiver(secret: str | None = SECRET) -> AsyncIterator[tuple[Receiver, str]]:
    """A real receiver: POST /hook (checks signatures), /busy/{token}, /gone, /moved."""
    hooks = Receiver(secret)
    app = web.Application()
    app.router.add_post("/hook", hooks.hook)
    app.router.add_post("/busy/{token}", busy)
    app.router.add_post("/gone", gone)
    app.router.add_post("/busy-until", busy_until)
    app.router.add_post("/moved", moved)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield hooks, f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def notifier(url: str, http: aiohttp.ClientSession, secret: str | None = SECRET) -> WebhookNotifier:
    clock = FakeClock(1_700_000_900.0)
    return WebhookNotifier(WebhookChannel(url=url), secret, http, clock=clock)


async def test_a_notice_is_posted_as_json_with_a_stable_delivery_id(http) -> None:
    async with receiver() as (hooks, base):
        await notifier(f"{base}/hook", http).deliver(NOTICE)
    [(headers, body)] = hooks.deliveries
    assert body == {**PAYLOAD, "at": 1_700_000_900.0, "id": 7}
    assert headers["Content-Type"] == "application/json"
    assert headers["webhook-timestamp"] == "1700000900"
    assert headers["webhook-id"] == "selfreg-7"


async def test_the_receiver_verifies_the_signature_with_the_shared_secret(http) -> None:
    async with receiver() as (hooks, base):
        await notifier(f"{base}/hook", http).deliver(NOTICE)
        with pytest.raises(PermanentDeliveryError) as raised:
            await notifier(f"{base}/hook", http, secret="someone-elses").deliver(NOTICE)
    assert len(hooks.deliveries) == 1, "only the correctly signed POST was accepted"
    assert hooks.deliveries[0][0]["webhook-signature"].startswith("v1,")
    assert raised.value.reason == (
        f"the webhook at {base} answered HTTP 401: Unauthorized: bad signature"
    )


async def test_without_a_secret_the_post_is_sent_unsigned(http) -> None:
    async with receiver(secret=None) as (hooks, base):
        await notifier(f"{base}/hook", http, secret=None).deliver(NOTICE)
    [(headers, _)] = hooks.deliveries
    assert "webhook-signature" not in headers


async def test_a_503_or_429_is_retried_after_the_receivers_retry_after_seconds_or_date(
    http,
) -> None:
    async with receiver() as (_, base):
        with pytest.raises(DeliveryError) as raised:
            await notifier(f"{base}/busy/T0KEN-IN-PATH", http).deliver(NOTICE)
    assert not isinstance(raised.value, PermanentDeliveryError)
    assert raised.value.retry_after == 7
    assert raised.value.reason == (
        f"the webhook at {base} answered HTTP 503: Service Unavailable: busy"
    )
    assert "T0KEN" not in str(raised.value), "reasons name the origin, never the path"
    async with receiver() as (_, base):  # a 429 whose Retry-After is an HTTP date, 90 s on
        with pytest.raises(DeliveryError) as dated:
            await notifier(f"{base}/busy-until", http).deliver(NOTICE)
    assert dated.value.retry_after == 90


async def test_a_410_gone_is_a_permanent_failure(http) -> None:
    async with receiver() as (_, base):
        with pytest.raises(PermanentDeliveryError) as raised:
            await notifier(f"{base}/gone", http).deliver(NOTICE)
    assert raised.value.reason == (
        f"the webhook at {base} answered HTTP 410: Gone: this hook was deleted"
    )


async def test_a_redirect_is_not_followed_and_is_a_permanent_failure(http) -> None:
    async with receiver() as (hooks, base):
        with pytest.raises(PermanentDeliveryError) as raised:
            await notifier(f"{base}/moved", http).deliver(NOTICE)
    assert hooks.deliveries == []
    assert "redirects (HTTP 307) to /hook" in raised.value.reason


async def test_a_refused_connection_is_a_transient_failure(http) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DeliveryError) as raised:
        await notifier(f"http://127.0.0.1:{port}/hook", http).deliver(NOTICE)
    assert not isinstance(raised.value, PermanentDeliveryError)
    assert raised.value.retry_after is None
    assert raised.value.reason.startswith(f"cannot reach the webhook at http://127.0.0.1:{port}: ")


async def test_other_kinds_of_outbox_rows_are_not_posted(http) -> None:
    async with receiver() as (hooks, base):
        sync = OutboxMessage(id=8, channel="webhook", kind="incident.sync", payload={}, attempts=1)
        await notifier(f"{base}/hook", http).deliver(sync)
    assert hooks.deliveries == []


def test_retry_after_reads_seconds_and_dates_and_bounds_them() -> None:
    now = 1_700_000_900.0
    assert retry_after("7", now) == 7
    assert retry_after(formatdate(now + 30, usegmt=True), now) == 30
    assert retry_after(formatdate(now - 30, usegmt=True), now) == 0, "a date passed: now"
    assert retry_after("86400", now) == 3600, "at most an hour"
    assert retry_after("soon", now) is None and retry_after(None, now) is None


def test_the_signature_matches_the_standard_webhooks_test_vector() -> None:
    """The reference libraries' vector (secret, id, timestamp, body -> signature)."""
    made = signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        b'{"test": 2432232314}',
    )
    assert made == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_secret_without_the_whsec_prefix_is_used_as_it_is() -> None:
    made = signature("plain-secret", "selfreg-1", "1700000000", b"{}")
    digest = hmac.new(b"plain-secret", b"selfreg-1.1700000000.{}", hashlib.sha256).digest()
    assert made == "v1," + base64.b64encode(digest).decode()

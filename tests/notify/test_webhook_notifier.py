"""The webhook channel against a real aiohttp receiver on 127.0.0.1 that checks signatures."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.config.alerts import WebhookChannel
from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify.base import OutboxMessage
from bot.notify.webhook import WebhookNotifier
from tests.support.clock import FakeClock

SECRET = "whsec-3f9a1c"
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


class Receiver:
    """Accepts a POST only when its signature matches the shared secret (when it has one)."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret
        self.deliveries: list[tuple[dict[str, str], Any]] = []

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.secret is not None:
            signed = request.headers["X-Selfreg-Timestamp"].encode() + b"." + body
            digest = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
            given = request.headers.get("X-Selfreg-Signature", "")
            if not hmac.compare_digest(f"sha256={digest}", given):
                return web.Response(status=401, text="bad signature")
        self.deliveries.append((dict(request.headers), json.loads(body)))
        return web.Response(status=204)


async def busy(_: web.Request) -> web.Response:
    return web.Response(status=503, text="busy", headers={"Retry-After": "7"})


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
    assert headers["X-Selfreg-Timestamp"] == "1700000900"
    assert headers["X-Selfreg-Delivery"] == "7"


async def test_the_receiver_verifies_the_signature_with_the_shared_secret(http) -> None:
    async with receiver() as (hooks, base):
        await notifier(f"{base}/hook", http).deliver(NOTICE)
        with pytest.raises(PermanentDeliveryError) as raised:
            await notifier(f"{base}/hook", http, secret="someone-elses").deliver(NOTICE)
    assert len(hooks.deliveries) == 1, "only the correctly signed POST was accepted"
    assert hooks.deliveries[0][0]["X-Selfreg-Signature"].startswith("sha256=")
    assert raised.value.reason == (
        f"the webhook at {base} answered HTTP 401: Unauthorized: bad signature"
    )


async def test_without_a_secret_the_post_is_sent_unsigned(http) -> None:
    async with receiver(secret=None) as (hooks, base):
        await notifier(f"{base}/hook", http, secret=None).deliver(NOTICE)
    [(headers, _)] = hooks.deliveries
    assert "X-Selfreg-Signature" not in headers


async def test_a_503_is_retried_after_the_receivers_retry_after(http) -> None:
    async with receiver() as (_, base):
        with pytest.raises(DeliveryError) as raised:
            await notifier(f"{base}/busy/T0KEN-IN-PATH", http).deliver(NOTICE)
    assert not isinstance(raised.value, PermanentDeliveryError)
    assert raised.value.retry_after == 7
    assert raised.value.reason == (
        f"the webhook at {base} answered HTTP 503: Service Unavailable: busy"
    )
    assert "T0KEN" not in str(raised.value), "reasons name the origin, never the path"


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

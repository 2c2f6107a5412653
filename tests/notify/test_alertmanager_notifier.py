"""The Alertmanager channel against a receiver on 127.0.0.1 that speaks /api/v2/alerts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.config.alertmanager import AlertmanagerChannel
from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify.alertmanager import AlertmanagerNotifier
from bot.notify.base import OutboxMessage
from tests.notify.test_webhook_notifier import PAYLOAD
from tests.support.clock import FakeClock
from tests.support.servers import serve_app

NOW = 1_700_000_900.0


class Api:
    """Alertmanager's POST /api/v2/alerts: keeps each body, answers ``status``."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.headers: list[str | None] = []
        self.status = 200

    async def alerts(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        self.headers.append(request.headers.get("Authorization"))
        return web.Response(status=self.status, text="" if self.status == 200 else "bad alert")


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, str]]:
    state = Api()
    app = web.Application()
    app.router.add_post("/api/v2/alerts", state.alerts)
    async with serve_app(app) as base:
        yield state, base


def notifier(
    base: str, http: aiohttp.ClientSession, token: str | None = None
) -> AlertmanagerNotifier:
    channel = AlertmanagerChannel(url=base, hold="1h")
    return AlertmanagerNotifier(
        channel, token, http, clock=FakeClock(NOW), skip_check="alertmanager"
    )


def message(**incident: Any) -> OutboxMessage:
    payload = {**PAYLOAD, "incident": {**PAYLOAD["incident"], **incident}}
    return OutboxMessage(
        id=7, channel="alertmanager", kind="incident.notice", payload=payload, attempts=1
    )


async def test_an_open_incident_is_a_firing_alert_held_ahead(http, api) -> None:
    state, base = api
    await notifier(base, http, token="t").deliver(message())
    [body] = state.bodies
    firing = [a for a in body if a["labels"]["severity"] == "error"]
    assert firing == [
        {
            "labels": {
                "alertname": "disk",
                "kind": "rule",
                "source": "selfreg",
                "subject": "/data",
                "severity": "error",
            },
            "annotations": {
                "summary": "/data is 96.1% full (threshold 95%)",
                "description": PAYLOAD["text"],
            },
            "startsAt": "2023-11-14T22:13:20.000Z",
            "endsAt": "2023-11-14T23:28:20.000Z",  # now + hold
        }
    ]
    others = [a["endsAt"] for a in body if a["labels"]["severity"] != "error"]
    assert others == ["2023-11-14T22:28:20.000Z"] * 3  # ended now: a worsened one moves on
    assert state.headers == ["Bearer t"]


async def test_a_resolved_incident_ends_at_its_resolution(http, api) -> None:
    state, base = api
    await notifier(base, http).deliver(message(state="resolved", resolved_at=1_700_000_600.0))
    [firing] = [a for a in state.bodies[0] if a["labels"]["severity"] == "error"]
    assert firing["endsAt"] == "2023-11-14T22:23:20.000Z" and state.headers == [None]


async def test_alerts_that_came_from_alertmanager_are_not_sent_back(http, api) -> None:
    state, base = api
    await notifier(base, http).deliver(message(check="alertmanager"))
    assert state.bodies == []


async def test_a_400_is_permanent_and_a_503_is_retried(http, api) -> None:
    state, base = api
    state.status = 400
    with pytest.raises(PermanentDeliveryError, match="answered 400: bad alert"):
        await notifier(base, http).deliver(message())
    state.status = 503
    with pytest.raises(DeliveryError) as raised:
        await notifier(base, http).deliver(message())
    assert not isinstance(raised.value, PermanentDeliveryError)


async def test_an_unreachable_alertmanager_is_retried(http) -> None:
    with pytest.raises(DeliveryError, match="cannot reach Alertmanager"):
        await notifier("http://127.0.0.1:9", http).deliver(message())

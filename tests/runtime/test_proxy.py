"""Outgoing HTTP honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY, through a real local proxy.

The shared session (``make_http_session``) carries checks, actions, webhooks, the heartbeat
and Slack's pool; the webhook channel stands for them all here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config.alerts import WebhookChannel
from bot.errors import DeliveryError
from bot.notify.base import OutboxMessage
from bot.notify.webhook import WebhookNotifier
from bot.runtime.factories import make_http_session, reach_loopback_directly
from tests.notify.test_webhook_notifier import receiver
from tests.support.clock import FakeClock
from tests.support.proxy import recording_proxy

NOTICE = OutboxMessage(
    id=3,
    channel="webhook",
    kind="incident.notice",
    payload={"text": "disk full", "incident": {"id": 1}},
    attempts=1,
)
PROXY_NAMES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No proxy variable from the machine; whatever the test sets is undone after it."""
    for name in PROXY_NAMES:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch


def webhook(url: str, http) -> WebhookNotifier:  # type: ignore[no-untyped-def]
    return WebhookNotifier(WebhookChannel(url=url), None, http, clock=FakeClock(1_700_000_000.0))


async def test_an_http_post_goes_through_http_proxy(clean_proxy_env: pytest.MonkeyPatch) -> None:
    async with recording_proxy() as proxy:
        clean_proxy_env.setenv("HTTP_PROXY", proxy.url)
        async with make_http_session() as http:
            await webhook("http://hooks.example.test/selfreg", http).deliver(NOTICE)
    assert proxy.requests == ["POST http://hooks.example.test/selfreg HTTP/1.1"]


async def test_an_https_post_asks_https_proxy_for_a_tunnel(
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    async with recording_proxy() as proxy:
        clean_proxy_env.setenv("HTTPS_PROXY", proxy.url)
        async with make_http_session() as http:
            with pytest.raises(DeliveryError):  # the recording proxy refuses every tunnel
                await webhook("https://hooks.example.test/selfreg", http).deliver(NOTICE)
    assert proxy.requests == ["CONNECT hooks.example.test:443 HTTP/1.1"]


async def test_no_proxy_hosts_and_loopback_are_reached_directly(
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    async with recording_proxy() as proxy, receiver(None) as (hooks, base):
        clean_proxy_env.setenv("HTTP_PROXY", proxy.url)
        clean_proxy_env.setenv("NO_PROXY", "internal.example.test")
        async with make_http_session() as http:
            await webhook(f"{base}/hook", http).deliver(NOTICE)
    assert len(hooks.deliveries) == 1 and proxy.requests == []


def test_loopback_joins_no_proxy_only_when_a_proxy_is_set() -> None:
    env = {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "corp.example, localhost"}
    reach_loopback_directly(env)
    assert env["NO_PROXY"] == env["no_proxy"] == "corp.example,localhost,127.0.0.1,::1"
    untouched = {"NO_PROXY": "corp.example"}
    reach_loopback_directly(untouched)
    assert untouched == {"NO_PROXY": "corp.example"}


async def test_without_a_proxy_the_session_reads_no_environment_per_request(
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    async with make_http_session() as http:
        assert http.trust_env is False  # no per-request proxy and netrc lookups in a thread
    clean_proxy_env.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    async with make_http_session() as http:
        assert http.trust_env is True

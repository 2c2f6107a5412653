"""The Slack stand-in, driven by the real slack_sdk clients and Bolt.

If these pass, the bot's own tests exercise Slack's protocol rather than the stand-in author's
idea of it: every request here goes through `AsyncWebClient`, `AsyncSocketModeHandler` or
Bolt's aiohttp adapter, never through a shortcut into the emulator.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import pathlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.slack_standin import AckTimeout, SlackEmulator

BOT = "xoxb-test"
APP = "xapp-1-A0SELF-1-test"
SECRET = "test-secret"
SAMPLES = pathlib.Path("/work/shared/api-samples/slack")
PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")

log = logging.getLogger(__name__)


def button(action_id: str, text: str = "Approve", value: str = "v") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }


def actions(*elements: dict[str, Any], block_id: str = "decide") -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def drive(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a blocking driver method without blocking this test's loop (harness rule 4)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk reads proxy variables (and ignores NO_PROXY); Bolt reads SLACK_*."""
    for name in list(os.environ):
        if name in PROXY_VARS or name.startswith("SLACK_"):
            monkeypatch.delenv(name)


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator().start()
    emulator.add_user("U0ALICE", name="alice")
    emulator.add_user("U0BOB", name="bob")
    emulator.add_channel("C0ALERTS", name="alerts", members=["U0BOT", "U0ALICE"])
    emulator.add_channel("C0OTHER", name="other", members=["U0ALICE"])
    yield emulator
    emulator.stop()


@pytest.fixture
def client(emu: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=BOT, base_url=emu.base_url)


@pytest.fixture
async def bolt(emu: SlackEmulator) -> AsyncIterator[tuple[AsyncApp, AsyncSocketModeHandler]]:
    """A Bolt AsyncApp connected over socket mode; closed before the emulator stops."""
    app = AsyncApp(client=AsyncWebClient(token=BOT, base_url=emu.base_url), signing_secret=SECRET)
    handler = AsyncSocketModeHandler(app, app_token=APP, ping_interval=0.3)
    await handler.connect_async()
    await drive(emu.wait_connected, 5)
    yield app, handler
    await handler.close_async()


async def raw_socket(emu: SlackEmulator, session: aiohttp.ClientSession):
    """A bare WebSocket through apps.connections.open, for frame-level checks."""
    opened = await AsyncWebClient(base_url=emu.base_url).apps_connections_open(app_token=APP)
    return await session.ws_connect(opened["url"])


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value.response["error"]


# (a) Web API round trips and errors


async def test_post_message_stores_and_returns_the_message(emu, client) -> None:
    reply = await client.chat_postMessage(
        channel="#alerts", text="disk full", blocks=[section("*disk* full")]
    )
    assert reply["ok"] and reply["channel"] == "C0ALERTS"
    assert reply["message"]["bot_id"] == "B0BOT" and reply["message"]["user"] == "U0BOT"
    stored = emu.message("C0ALERTS", reply["ts"])
    assert stored is not None and stored.text == "disk full"
    assert 3 <= len(stored.blocks[0]["block_id"]) <= 5
    assert reply["message"]["blocks"] == stored.blocks


async def test_timestamps_are_unique_and_increase(client) -> None:
    stamps = [(await client.chat_postMessage(channel="C0ALERTS", text="x"))["ts"] for _ in range(5)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 5
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


async def test_update_keeps_every_revision_and_empty_blocks_clear(emu, client) -> None:
    posted = await client.chat_postMessage(
        channel="C0ALERTS", text="alert", blocks=[actions(button("approve"))]
    )
    reply = await client.chat_update(
        channel="C0ALERTS", ts=posted["ts"], text="approved", blocks=[]
    )
    assert reply["ts"] == posted["ts"] and reply["text"] == "approved"
    states = [(m.text, len(m.blocks)) for m in emu.history("C0ALERTS", posted["ts"])]
    assert states == [("alert", 1), ("approved", 0)]


async def test_thread_replies_join_their_parent(emu, client) -> None:
    parent = await client.chat_postMessage(channel="C0ALERTS", text="alert")
    reply = await client.chat_postMessage(channel="C0ALERTS", text="ran", thread_ts=parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]
    assert [m.text for m in emu.thread("C0ALERTS", parent["ts"])] == ["ran"]
    replies = await client.conversations_replies(channel="C0ALERTS", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["alert", "ran"]
    assert (
        await error_of(client.chat_postMessage(channel="C0ALERTS", text="x", thread_ts="1.000001"))
        == "thread_not_found"
    )


async def test_post_ephemeral_is_stored_for_one_user(emu, client) -> None:
    reply = await client.chat_postEphemeral(channel="C0ALERTS", user="U0ALICE", text="only you")
    shown = emu.ephemerals(channel="C0ALERTS", user="U0ALICE")
    assert [m.ts for m in shown] == [reply["message_ts"]] and shown[0].text == "only you"
    assert emu.messages("C0ALERTS") == []
    assert (
        await error_of(client.chat_postEphemeral(channel="C0ALERTS", user="U0BOB", text="x"))
        == "user_not_in_channel"
    )


async def test_auth_errors(emu) -> None:
    post = {"channel": "C0ALERTS", "text": "x"}
    anonymous = AsyncWebClient(base_url=emu.base_url)
    assert await error_of(anonymous.chat_postMessage(**post)) == "not_authed"
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=emu.base_url)
    assert await error_of(wrong.chat_postMessage(**post)) == "invalid_auth"
    app_token = AsyncWebClient(token=APP, base_url=emu.base_url)
    assert await error_of(app_token.chat_postMessage(**post)) == "not_allowed_token_type"
    bot = AsyncWebClient(token=BOT, base_url=emu.base_url)
    assert await error_of(bot.apps_connections_open(app_token=BOT)) == "not_allowed_token_type"
    assert await error_of(bot.api_call("chat.fly")) == "unknown_method"
    assert [c.method for c in emu.calls()][-1] == "chat.fly"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"channel": "C0NOPE", "text": "x"}, "channel_not_found"),
        ({"channel": "C0OTHER", "text": "x"}, "not_in_channel"),
        ({"channel": "C0ARCHIVED", "text": "x"}, "is_archived"),
        ({"channel": "C0ALERTS"}, "no_text"),
        ({"channel": "C0ALERTS", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "C0ALERTS", "blocks": "[{not json"}, "invalid_blocks_format"),
        ({"channel": "C0ALERTS", "blocks": {"type": "divider"}}, "invalid_blocks_format"),
    ],
)
async def test_post_message_refusals(emu, client, args: dict[str, Any], code: str) -> None:
    emu.add_channel("C0ARCHIVED", name="old", members=["U0BOT"], archived=True)
    assert await error_of(client.api_call("chat.postMessage", json=args)) == code


async def test_chat_write_public_lets_the_bot_post_where_it_is_not_a_member() -> None:
    with SlackEmulator(chat_write_public=True) as emu:
        emu.add_channel("C0PUB", name="pub", members=[])
        client = AsyncWebClient(token=BOT, base_url=emu.base_url)
        assert (await client.chat_postMessage(channel="C0PUB", text="x"))["ok"]


def _long(n: int) -> str:
    return "x" * n


BAD_BLOCKS: dict[str, list[Any]] = {
    "too_many_blocks": [{"type": "divider"}] * 51,
    "unknown_type": [{"type": "carousel"}],
    "section_without_text": [{"type": "section"}],
    "section_text_too_long": [section(_long(3001))],
    "eleven_fields": [
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"} for _ in range(11)]}
    ],
    "header_too_long": [{"type": "header", "text": {"type": "plain_text", "text": _long(151)}}],
    "header_mrkdwn": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
    "empty_actions": [{"type": "actions", "elements": []}],
    "too_many_actions": [actions(*(button(f"a{i}") for i in range(26)))],
    "big_context": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
    "button_text_too_long": [actions(button("a", text=_long(76)))],
    "button_value_too_long": [actions(button("a", value=_long(2001)))],
    "button_url_too_long": [actions({**button("a"), "url": "https://x/" + _long(3000)})],
    "block_id_too_long": [{"type": "divider", "block_id": _long(256)}],
    "action_id_too_long": [actions(button(_long(256)))],
    "duplicate_block_id": [{"type": "divider", "block_id": "b"}] * 2,
    "duplicate_action_id": [actions(button("same"), button("same"))],
    "empty_text": [section("")],
}


@pytest.mark.parametrize("blocks", BAD_BLOCKS.values(), ids=BAD_BLOCKS.keys())
async def test_block_kit_validator_refuses(client, blocks: list[Any]) -> None:
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0ALERTS", text="fallback", blocks=blocks)
    body = info.value.response.data
    assert body["error"] == "invalid_blocks"
    assert body["errors"] and "[json-pointer:/blocks" in body["errors"][0]
    assert body["response_metadata"]["messages"][0].startswith("[ERROR] ")


async def test_fifty_valid_blocks_are_accepted(client) -> None:
    blocks = [section(f"line {i}") for i in range(49)] + [actions(button("ok"))]
    assert (await client.chat_postMessage(channel="C0ALERTS", text="x", blocks=blocks))["ok"]


async def test_update_refusals(emu, client) -> None:
    human = emu.add_message("C0ALERTS", "hi", user="U0ALICE")
    ephemeral = await client.chat_postEphemeral(channel="C0ALERTS", user="U0ALICE", text="e")
    update = client.chat_update
    assert await error_of(update(channel="C0ALERTS", ts="1.000009", text="x")) == (
        "message_not_found"
    )
    assert await error_of(update(channel="C0ALERTS", ts=human.ts, text="x")) == (
        "cant_update_message"
    )
    assert await error_of(update(channel="C0ALERTS", ts=ephemeral["message_ts"], text="x")) == (
        "cant_update_message"
    )
    posted = await client.chat_postMessage(channel="C0ALERTS", text="x")
    bad = [{"type": "header", "text": {"type": "plain_text", "text": _long(151)}}]
    assert await error_of(update(channel="C0ALERTS", ts=posted["ts"], text="x", blocks=bad)) == (
        "invalid_blocks"
    )


async def test_delete_reactions_info_and_usergroups(emu, client) -> None:
    posted = await client.chat_postMessage(channel="C0ALERTS", text="x")
    await client.reactions_add(channel="C0ALERTS", timestamp=posted["ts"], name="eyes")
    assert emu.message("C0ALERTS", posted["ts"]).reactions == ("eyes",)
    await client.chat_delete(channel="C0ALERTS", ts=posted["ts"])
    assert emu.messages("C0ALERTS") == [] and emu.history("C0ALERTS", posted["ts"])[-1].deleted
    info = await client.conversations_info(channel="C0OTHER")
    assert info["channel"]["is_member"] is False
    assert await error_of(client.conversations_info(channel="C0NOPE")) == "channel_not_found"
    emu.add_usergroup("S0OPS", ["U0ALICE", "U0BOB"])
    assert (await client.usergroups_users_list(usergroup="S0OPS"))["users"] == [
        "U0ALICE",
        "U0BOB",
    ]


async def test_usergroups_need_their_scope() -> None:
    with SlackEmulator(scopes=["chat:write"]) as emu:
        emu.add_usergroup("S0OPS", ["U0ALICE"])
        client = AsyncWebClient(token=BOT, base_url=emu.base_url)
        assert await error_of(client.usergroups_users_list(usergroup="S0OPS")) == "missing_scope"


async def test_form_bodies_and_query_strings_are_accepted(emu) -> None:
    async with aiohttp.ClientSession() as session:
        form = {"token": BOT, "channel": "C0ALERTS", "text": "form", "blocks": "[]"}
        async with session.post(emu.base_url + "chat.postMessage", data=form) as resp:
            assert (await resp.json())["ok"]
        async with session.get(emu.base_url + "auth.test", params={"token": BOT}) as resp:
            assert (await resp.json())["user_id"] == "U0BOT"
    assert emu.calls("chat.postMessage")[0].args["text"] == "form"


# (c) faults and rate limits


async def test_retry_after_is_honoured_by_the_rate_limit_retry_handler(emu, client) -> None:
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    emu.fail("chat.postMessage", status=429, retry_after=1, times=1)
    started = time.monotonic()
    reply = await client.chat_postMessage(channel="C0ALERTS", text="x")
    assert reply["ok"] and time.monotonic() - started >= 1.0
    first, second = emu.calls("chat.postMessage")
    assert (first.status, first.error, second.status) == (429, "ratelimited", 200)


async def test_token_bucket_limits_each_channel(emu, client) -> None:
    emu.rate_limit("chat.postMessage", per_channel_per_sec=1.0, burst=1)
    await client.chat_postMessage(channel="C0ALERTS", text="1")
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0ALERTS", text="2")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "1"
    emu.add_channel("C0MORE", name="more", members=["U0BOT"])
    assert (await client.chat_postMessage(channel="C0MORE", text="3"))["ok"]
    emu.rate_limit("chat.postMessage", per_channel_per_sec=1.0, burst=1, status=200)
    assert await error_of(client.chat_postMessage(channel="C0MORE", text="4")) == "rate_limited"


async def test_faults_by_status_predicate_and_token(emu, client) -> None:
    emu.fail("chat.postMessage", "channel_not_found", when=lambda a: a.get("text") == "boom")
    assert (await client.chat_postMessage(channel="C0ALERTS", text="fine"))["ok"]
    assert await error_of(client.chat_postMessage(channel="C0ALERTS", text="boom")) == (
        "channel_not_found"
    )
    emu.fail("auth.test", status=503)
    with pytest.raises(SlackApiError) as info:
        await client.auth_test()
    assert info.value.response.status_code == 503
    limited = AsyncWebClient(token="xoxb-ratelimited", base_url=emu.base_url)
    with pytest.raises(SlackApiError) as info:
        await limited.auth_test()
    assert info.value.response.status_code == 429


async def test_dropped_connection_is_retried_by_the_default_handler(emu, client) -> None:
    emu.fail("chat.postMessage", drop_connection=True)
    assert (await client.chat_postMessage(channel="C0ALERTS", text="x"))["ok"]
    assert [c.status for c in emu.calls("chat.postMessage")] == [0, 200]


async def test_delay_adds_latency(emu, client) -> None:
    emu.delay("auth.test", 0.2, times=1)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.2


# (b) socket mode with Bolt


async def test_bolt_acks_a_slash_command_and_a_click_and_updates_the_message(emu, bolt) -> None:
    app, _handler = bolt

    @app.command("/selfreg")
    async def on_command(ack, command, client) -> None:
        await ack()
        await client.chat_postMessage(
            channel=command["channel_id"], text="alert", blocks=[actions(button("approve"))]
        )

    @app.action("approve")
    async def on_approve(ack, body, client) -> None:
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"], ts=body["message"]["ts"], text="approved", blocks=[]
        )

    ack = await drive(emu.slash, "/selfreg", "status", user="U0ALICE", channel="C0ALERTS")
    assert ack.latency_ms < 3000 and ack.payload is None
    posted = await drive(emu.wait_for, lambda: emu.messages("C0ALERTS"))
    click = await drive(emu.click, "C0ALERTS", posted[0].ts, "approve", user="U0ALICE")
    assert click.latency_ms < 3000
    update = await drive(emu.wait_for_call, "chat.update")
    assert update.status == 200 and update.args["ts"] == posted[0].ts
    assert [m.text for m in emu.history("C0ALERTS", posted[0].ts)] == ["alert", "approved"]
    assert emu.unacked() == []


async def test_a_click_carries_the_stored_message(emu, bolt) -> None:
    app, _handler = bolt
    seen: list[dict[str, Any]] = []

    @app.action("approve")
    async def on_approve(ack, body) -> None:
        await ack()
        seen.append(body)

    client = AsyncWebClient(token=BOT, base_url=emu.base_url)
    posted = await client.chat_postMessage(
        channel="C0ALERTS", text="t", blocks=[actions(button("approve", value="restart:web"))]
    )
    await drive(emu.click, "C0ALERTS", posted["ts"], "approve", user="U0ALICE")
    body = seen[0]
    assert body["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": "C0ALERTS",
        "is_ephemeral": False,
    }
    assert body["actions"][0]["value"] == "restart:web"
    assert body["actions"][0]["block_id"] == "decide"
    assert body["message"]["blocks"] == posted["message"]["blocks"]
    assert body["user"]["name"] == "alice" and body["response_url"].startswith(emu.root_url)


async def test_a_slash_ack_payload_is_shown_to_the_user(emu, bolt) -> None:
    app, _handler = bolt

    @app.command("/selfreg")
    async def on_command(ack) -> None:
        await ack("usage: /selfreg status")

    ack = await drive(emu.slash, "/selfreg", "nonsense", user="U0ALICE", channel="C0ALERTS")
    assert ack.payload == {"text": "usage: /selfreg status"}
    assert [m.text for m in emu.ephemerals(user="U0ALICE")] == ["usage: /selfreg status"]


async def test_a_missing_ack_times_out_and_is_listed_as_unacked() -> None:
    with SlackEmulator(ack_timeout=0.3) as emu:
        async with aiohttp.ClientSession() as session:
            ws = await raw_socket(emu, session)
            await drive(emu.wait_connected, 2)
            with pytest.raises(AckTimeout):
                await drive(emu.slash, "/selfreg", "x", user="U0ALICE", channel="C0ALERTS")
            assert [e.type for e in emu.unacked()] == ["slash_commands"]
            await ws.close()


# socket-level behaviour with a bare WebSocket


async def test_hello_first_tickets_single_use_and_frames_recorded(emu) -> None:
    async with aiohttp.ClientSession() as session:
        opened = await AsyncWebClient(base_url=emu.base_url).apps_connections_open(app_token=APP)
        ws = await session.ws_connect(opened["url"])
        hello = await ws.receive_json(timeout=2)
        assert hello["type"] == "hello" and hello["connection_info"] == {"app_id": "A0SELF"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(opened["url"])
        assert info.value.status == 401
        raw = {"envelope_id": "e-1", "type": "events_api", "payload": {"x": 1}, "retry_attempt": 2}
        await drive(emu.send_envelope, raw, wait=False)
        assert await ws.receive_json(timeout=2) == raw
        await drive(emu.send_frame, "not json")
        assert await ws.receive_str(timeout=2) == "not json"
        await ws.send_str(json.dumps({"envelope_id": "e-1"}))
        await drive(emu.wait_for, emu.acks)
        assert emu.acks()[0].envelope_id == "e-1" and emu.frames()[0].data == {"envelope_id": "e-1"}
        await ws.close()


async def test_withheld_hello_and_redelivery_with_retry_fields(emu) -> None:
    emu.withhold_hello()
    async with aiohttp.ClientSession() as session:
        ws = await raw_socket(emu, session)
        await drive(emu.wait_connected, 2)
        first = asyncio.ensure_future(drive(emu.event, {"type": "app_mention", "text": "hi"}))
        delivered = await ws.receive_json(timeout=2)
        assert delivered["type"] == "events_api" and delivered["retry_attempt"] == 0
        await ws.send_str(json.dumps({"envelope_id": delivered["envelope_id"]}))
        await first
        again = asyncio.ensure_future(drive(emu.redeliver, delivered["envelope_id"]))
        retried = await ws.receive_json(timeout=2)
        assert retried["payload"] == delivered["payload"]
        assert (retried["retry_attempt"], retried["retry_reason"]) == (1, "timeout")
        await ws.send_str(json.dumps({"envelope_id": retried["envelope_id"]}))
        await again
        await ws.close()


# (d) reconnects


async def test_refresh_requested_leads_to_a_new_connection(emu, bolt) -> None:
    app, _handler = bolt

    @app.command("/selfreg")
    async def on_command(ack) -> None:
        await ack()

    emu.disconnect("refresh_requested", close_after=0.5)
    await drive(emu.wait_connected, 5)
    assert len(emu.calls("apps.connections.open")) == 2 and emu.connections_opened() == 2
    ack = await drive(emu.slash, "/selfreg", "status", user="U0ALICE", channel="C0ALERTS")
    assert ack.latency_ms < 3000
    await drive(emu.wait_for, lambda: emu.connection_count() == 1)


async def test_a_rate_limited_connections_open_is_retried_after_retry_after(emu, bolt) -> None:
    emu.fail("apps.connections.open", status=429, retry_after=1)
    started = time.monotonic()
    emu.disconnect("warning", close_after=0.2)
    await drive(emu.wait_connected, 5)
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in emu.calls("apps.connections.open")] == [200, 429, 200]


async def test_a_redelivered_event_reaches_bolt_with_retry_headers(emu, bolt) -> None:
    app, _handler = bolt
    seen: list[tuple[str, Any]] = []

    @app.event("app_mention")
    async def on_mention(body, request) -> None:
        seen.append((body["event_id"], request.headers.get("x-slack-retry-num")))

    first = await drive(emu.event, {"type": "app_mention", "text": "hi", "user": "U0ALICE"})
    await drive(emu.redeliver, first.envelope_id, retry_attempt=1, retry_reason="timeout")
    assert seen[0][0] == seen[1][0]
    assert [retry for _, retry in seen] == [["0"], ["1"]]


async def test_an_abrupt_drop_leads_to_a_new_connection(emu, bolt) -> None:
    emu.drop_socket()
    await drive(emu.wait_connected, 5)
    assert len(emu.calls("apps.connections.open")) == 2


# (e) HTTP mode


@pytest.fixture
async def http_bot(emu: SlackEmulator) -> AsyncIterator[AsyncApp]:
    """Bolt behind its aiohttp adapter on 127.0.0.1, receiving signed POSTs."""
    app = AsyncApp(client=AsyncWebClient(token=BOT, base_url=emu.base_url), signing_secret=SECRET)

    async def endpoint(request: web.Request) -> web.Response:
        response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    web_app = web.Application()
    web_app.router.add_post("/slack/events", endpoint)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    emu.use_http(f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events")
    yield app
    await runner.cleanup()


async def test_signed_posts_are_accepted_and_bad_ones_get_401(emu, http_bot) -> None:
    @http_bot.command("/selfreg")
    async def on_command(ack) -> None:
        await ack("ok")

    good = await drive(emu.slash, "/selfreg", "status", user="U0ALICE", channel="C0ALERTS")
    assert (good.status, good.payload) == (200, {"text": "ok"})
    slash = functools.partial(emu.slash, "/selfreg", "x", user="U0ALICE", channel="C0ALERTS")
    assert (await drive(slash, sign=False)).status == 401
    assert (await drive(slash, timestamp_skew=-600)).status == 401
    assert (await drive(slash, tamper=True)).status == 401
    assert (await drive(emu.ssl_check)).status == 200


async def test_a_click_arrives_by_http_too(emu, http_bot) -> None:
    clicked: list[str] = []

    @http_bot.action("approve")
    async def on_approve(ack, body) -> None:
        await ack()
        clicked.append(body["actions"][0]["action_id"])

    message = emu.add_message("C0ALERTS", "x", user="U0BOT", blocks=[actions(button("approve"))])
    ack = await drive(emu.click, "C0ALERTS", message.ts, "approve", user="U0ALICE")
    assert ack.status == 200 and clicked == ["approve"]


# (f) modals


async def test_trigger_ids_are_single_use_and_expire(emu, client) -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Scale"},
        "blocks": [section("x")],
    }
    trigger = emu.issue_trigger("U0ALICE")
    opened = (await client.views_open(trigger_id=trigger, view=view))["view"]
    assert opened["id"].startswith("V") and opened["root_view_id"] == opened["id"]
    assert opened["state"] == {"values": {}} and opened["hash"]
    assert await error_of(client.views_open(trigger_id=trigger, view=view)) == (
        "exchanged_trigger_id"
    )
    stale = emu.issue_trigger("U0ALICE")
    emu.expire_triggers()
    assert await error_of(client.views_open(trigger_id=stale, view=view)) == "expired_trigger_id"
    assert await error_of(client.views_open(trigger_id="1.2.3", view=view)) == (
        "invalid_trigger_id"
    )
    long_title = {**view, "title": {"type": "plain_text", "text": _long(25)}}
    fresh = emu.issue_trigger("U0ALICE")
    assert await error_of(client.views_open(trigger_id=fresh, view=json.dumps(long_title))) == (
        "invalid_arguments"
    )


async def test_views_update_checks_the_hash_and_push_keeps_the_root(emu, client) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "A"}, "blocks": [section("a")]}
    opened = (await client.views_open(trigger_id=emu.issue_trigger("U0ALICE"), view=view))["view"]
    changed = {**view, "title": {"type": "plain_text", "text": "B"}}
    updated = await client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)
    assert updated["view"]["id"] == opened["id"] and updated["view"]["hash"] != opened["hash"]
    stale = client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    assert await error_of(stale) == "hash_conflict"
    pushed = await client.views_push(trigger_id=emu.issue_trigger("U0ALICE"), view=view)
    assert pushed["view"]["root_view_id"] == opened["id"]
    assert pushed["view"]["previous_view_id"] == opened["id"]


async def test_reset_forgets_everything_but_keeps_serving(emu, client) -> None:
    await client.chat_postMessage(channel="C0ALERTS", text="x")
    emu.fail("auth.test", "invalid_auth", times=None)
    emu.reset()
    assert emu.calls() == [] and emu.messages("C0ALERTS") == []
    assert (await client.auth_test())["ok"]
    assert await error_of(client.chat_postMessage(channel="C0ALERTS", text="x")) == (
        "channel_not_found"
    )


async def test_a_modal_from_a_slash_command_is_submitted_and_answered(emu, bolt) -> None:
    app, _handler = bolt
    modal = {
        "type": "modal",
        "callback_id": "scale",
        "title": {"type": "plain_text", "text": "Scale"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [
            {
                "type": "input",
                "block_id": "count",
                "label": {"type": "plain_text", "text": "Count"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }

    @app.command("/selfreg")
    async def on_command(ack, body, client) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.view("scale")
    async def on_submit(ack, view) -> None:
        value = view["state"]["values"]["count"]["value"]["value"]
        if not value.isdigit():
            await ack(response_action="errors", errors={"count": "a number, please"})
            return
        await ack()

    await drive(emu.slash, "/selfreg", "scale", user="U0ALICE", channel="C0ALERTS")
    views = await drive(emu.wait_for, emu.views)
    values = {"count": {"value": {"type": "plain_text_input", "value": "many"}}}
    refused = await drive(emu.submit_view, views[0].id, values)
    assert refused.payload["response_action"] == "errors"
    assert not emu.views()[0].closed
    values["count"]["value"]["value"] = "3"
    await drive(emu.submit_view, views[0].id, values)
    assert emu.views()[0].closed


# (g) response_url


async def test_respond_replace_original_rewrites_the_clicked_message(emu, bolt) -> None:
    app, _handler = bolt

    @app.action("approve")
    async def on_approve(ack, respond) -> None:
        await ack()
        await respond(replace_original=True, text="approved by alice")

    client = AsyncWebClient(token=BOT, base_url=emu.base_url)
    posted = await client.chat_postMessage(
        channel="C0ALERTS", text="approve?", blocks=[actions(button("approve"))]
    )
    await drive(emu.click, "C0ALERTS", posted["ts"], "approve", user="U0ALICE")
    await drive(emu.wait_for, emu.hooks)
    assert emu.hooks()[0].status == 200
    assert emu.message("C0ALERTS", posted["ts"]).text == "approved by alice"
    assert emu.message("C0ALERTS", posted["ts"]).blocks == []


async def test_clicks_on_ephemeral_messages_are_replaced_through_response_url(emu, bolt) -> None:
    app, _handler = bolt

    @app.action("confirm")
    async def on_confirm(ack, body, respond) -> None:
        await ack()
        assert "message" not in body and body["container"]["is_ephemeral"]
        await respond(replace_original=True, text="confirmed")

    client = AsyncWebClient(token=BOT, base_url=emu.base_url)
    shown = await client.chat_postEphemeral(
        channel="C0ALERTS", user="U0ALICE", text="sure?", blocks=[actions(button("confirm"))]
    )
    await drive(emu.click_ephemeral, "C0ALERTS", "U0ALICE", shown["message_ts"], "confirm")
    await drive(emu.wait_for, emu.hooks)
    assert [m.text for m in emu.ephemerals(user="U0ALICE")] == ["confirmed"]


async def test_a_response_url_expires_after_five_uses(emu, bolt) -> None:
    app, _handler = bolt

    @app.command("/selfreg")
    async def on_command(ack) -> None:
        await ack()

    await drive(emu.slash, "/selfreg", "status", user="U0ALICE", channel="C0ALERTS")
    url = emu.envelopes()[-1].body["payload"]["response_url"]
    statuses = []
    async with aiohttp.ClientSession() as session:
        for n in range(6):
            body = {"text": f"reply {n}", "response_type": "in_channel"}
            async with session.post(url, json=body) as resp:
                statuses.append((resp.status, await resp.text()))
    assert [s for s, _ in statuses] == [200] * 5 + [404]
    assert statuses[-1][1] == "expired_url"
    assert len(emu.messages("C0ALERTS")) == 5


# the samples the stand-in imitates


def _keys(value: Any) -> Any:
    """The key structure of a JSON value, for comparing shapes without values."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(v) for v in value[:1]]
    return type(value).__name__ if value is not None else None


def _sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="api-samples are not on this machine")
async def test_replies_and_envelopes_have_the_sample_shapes(emu, client) -> None:
    auth = (await client.auth_test()).data
    assert _keys(auth) == _keys(_sample("auth_test.json"))
    opened = await AsyncWebClient(base_url=emu.base_url).apps_connections_open(app_token=APP)
    assert _keys(opened.data) == _keys(_sample("apps_connections_open.json"))
    posted = (await client.chat_postMessage(channel="C0ALERTS", text="x")).data
    sample_post = _sample("chat_postMessage_ok.json")
    assert set(sample_post) == set(posted)
    assert set(sample_post["message"]) <= set(posted["message"])
    assert (
        await error_of(client.chat_postMessage(channel="C0NOPE", text="x"))
        == (_sample("error_channel_not_found.json")["error"])
    )
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(opened["url"])
        assert _keys(await ws.receive_json(timeout=2)) == _keys(_sample("socket_hello.json"))
        await drive(emu.disconnect, "too_many_websockets", 5.0)
        frame = await ws.receive_json(timeout=2)
        assert _keys(frame) == _keys(_sample("socket_disconnect_too_many.json"))
        await ws.close()


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="api-samples are not on this machine")
async def test_inbound_payloads_have_the_sample_keys(emu, client) -> None:
    posted = await client.chat_postMessage(
        channel="C0ALERTS", text="t", blocks=[actions(button("approve"))]
    )
    async with aiohttp.ClientSession() as session:
        ws = await raw_socket(emu, session)
        await ws.receive_json(timeout=2)
        cases = [
            (
                functools.partial(emu.slash, "/selfreg", "x", user="U0ALICE", channel="C0ALERTS"),
                "socket_envelope_slash_command.json",
            ),
            (
                functools.partial(emu.click, "C0ALERTS", posted["ts"], "approve", user="U0ALICE"),
                "socket_envelope_block_actions.json",
            ),
            (
                functools.partial(emu.event, {"type": "app_mention", "text": "hi", "user": "U0A"}),
                "socket_envelope_events_api_app_mention.json",
            ),
        ]
        for send, name in cases:
            pending = asyncio.ensure_future(drive(send))
            envelope = await ws.receive_json(timeout=2)
            sample = _sample(name)
            assert list(envelope) == list(sample)
            assert set(envelope["payload"]) == set(sample["payload"])
            await ws.send_str(json.dumps({"envelope_id": envelope["envelope_id"]}))
            await pending
        await ws.close()


async def test_files_upload_v2_shares_the_bytes_in_the_thread(emu, client) -> None:
    """Slack's upload flow: files.getUploadURLExternal, a POST of the bytes to the URL it
    returned, files.completeUploadExternal into a thread (slack_sdk's files_upload_v2)."""
    root = await client.chat_postMessage(channel="C0ALERTS", text="incident")
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    done = await client.files_upload_v2(
        channel="C0ALERTS", thread_ts=root["ts"], content=data, filename="chart.png",
        title="latency", initial_comment="the chart",
    )  # fmt: skip
    assert done["ok"] and done["files"][0]["size"] == len(data)
    [reply] = [m for m in emu.thread("C0ALERTS", root["ts"]) if m.ts != root["ts"]]
    assert reply.text == "the chart" and reply.files[0]["title"] == "latency"
    assert emu.uploaded(reply.files[0]["id"]) == data
    missing = client.files_completeUploadExternal(files=[{"id": "F0NONE"}], channel_id="C0ALERTS")
    assert await error_of(missing) == "file_not_found"

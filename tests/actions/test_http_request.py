"""``http_request`` against a real aiohttp server on 127.0.0.1 that records what it got."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from pydantic import ValidationError

from actions.http_request import KEEP_CHARS, HttpRequest, HttpRequestSpec
from tests.support.action_context import RealActionContext


class Hooks:
    """A loopback server: /hook answers 202, /fail 500, /slow sleeps, /big 100 kB, /moved 302."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.url = ""

    async def _hook(self, request: web.Request) -> web.Response:
        self.received.append(
            {
                "method": request.method,
                "path": request.path_qs,
                "headers": dict(request.headers),
                "body": await request.text(),
            }
        )
        status = {"/fail": 500, "/hook": 202}.get(request.path, 200)
        return web.Response(status=status, text=f"deploy queued at {request.path}")

    async def _slow(self, _: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def _big(self, _: web.Request) -> web.Response:
        return web.Response(text="head " + "y" * 100_000)

    async def _moved(self, request: web.Request) -> web.Response:
        self.received.append({"method": request.method, "path": request.path})
        raise web.HTTPFound("/hook")


@pytest.fixture
async def hooks() -> AsyncIterator[Hooks]:
    hooks = Hooks()
    app = web.Application()
    app.router.add_route("*", "/hook", hooks._hook)
    app.router.add_route("*", "/fail", hooks._hook)
    app.router.add_get("/slow", hooks._slow)
    app.router.add_get("/big", hooks._big)
    app.router.add_post("/moved", hooks._moved)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hooks.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield hooks
    finally:
        await runner.cleanup()


def request(url: str, **fields: Any) -> HttpRequest:
    return HttpRequest(HttpRequestSpec(name="deploy", kind="http_request", url=url, **fields))


async def test_it_sends_the_configured_method_headers_and_body(
    ctx: RealActionContext, hooks: Hooks
) -> None:
    action = request(f"{hooks.url}/hook?ref=main", headers={"X-Deploy": "api"}, body='{"a": 1}')
    result = await action.execute(ctx, dry_run=False)
    assert result.ok and result.summary == f"HTTP 202 from POST {hooks.url}/hook"
    assert result.output == "deploy queued at /hook"
    [got] = hooks.received
    assert (got["method"], got["path"], got["body"]) == ("POST", "/hook?ref=main", '{"a": 1}')
    assert got["headers"]["X-Deploy"] == "api"


async def test_a_status_outside_2xx_is_a_failure(ctx: RealActionContext, hooks: Hooks) -> None:
    result = await request(f"{hooks.url}/fail").execute(ctx, dry_run=False)
    assert not result.ok and result.summary == f"HTTP 500 from POST {hooks.url}/fail"


async def test_expect_status_lists_the_codes_that_count(
    ctx: RealActionContext, hooks: Hooks
) -> None:
    assert (await request(f"{hooks.url}/fail", expect_status=[500]).execute(ctx, dry_run=False)).ok
    result = await request(f"{hooks.url}/hook", expect_status=[200]).execute(ctx, dry_run=False)
    assert not result.ok


async def test_redirects_are_not_followed(ctx: RealActionContext, hooks: Hooks) -> None:
    result = await request(f"{hooks.url}/moved").execute(ctx, dry_run=False)
    assert not result.ok and result.summary.startswith("HTTP 302 from POST")
    assert [r["path"] for r in hooks.received] == ["/moved"]


async def test_a_silent_server_fails_after_the_timeout(
    ctx: RealActionContext, hooks: Hooks
) -> None:
    action = request(f"{hooks.url}/slow", method="GET", timeout="300ms")
    result = await asyncio.wait_for(action.execute(ctx, dry_run=False), 5)
    assert not result.ok
    assert result.summary == f"GET {hooks.url}/slow: no answer within 300ms"


async def test_a_refused_connection_is_a_failure(ctx: RealActionContext) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens
    result = await request(f"http://127.0.0.1:{port}/hook").execute(ctx, dry_run=False)
    assert not result.ok
    assert result.summary == f"POST http://127.0.0.1:{port}/hook: Connection refused"


async def test_a_long_body_is_trimmed_to_its_head(ctx: RealActionContext, hooks: Hooks) -> None:
    result = await request(f"{hooks.url}/big", method="GET").execute(ctx, dry_run=False)
    assert result.ok
    body, _, mark = result.output.rpartition("\n")
    assert body.startswith("head yyy") and len(body) == KEEP_CHARS
    assert mark == f"[… cut: the first {KEEP_CHARS:,} characters shown]"


def test_the_url_shown_hides_user_info_query_and_fragment() -> None:
    action = request("https://deploy:s3cret@hooks.example.com:8443/v1/run?token=abc#x")
    assert action.describe() == "POST https://hooks.example.com:8443/v1/run"


async def test_a_dry_run_sends_nothing(ctx: RealActionContext, hooks: Hooks) -> None:
    result = await request(f"{hooks.url}/hook?token=abc").execute(ctx, dry_run=True)
    assert result.ok and result.summary == f"would send POST {hooks.url}/hook"
    assert hooks.received == []


@pytest.mark.parametrize(
    "fields",
    [
        {"url": "ftp://127.0.0.1/x"},
        {"url": "127.0.0.1:8080/hook"},
        {"url": "http://127.0.0.1/a b"},
        {"url": "http://127.0.0.1/", "method": "CONNECT"},
        {"url": "http://127.0.0.1/", "expect_status": [99]},
    ],
)
def test_config_rejects_what_it_cannot_send(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HttpRequestSpec(name="deploy", kind="http_request", **fields)

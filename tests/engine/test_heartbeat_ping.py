"""One heartbeat ping: the URL while healthy, URL/fail while not; failures return False."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.engine.heartbeat import Heartbeat, ping_url, redacted
from tests.support.servers import free_port


def test_the_url_is_redacted_to_its_scheme_and_host() -> None:
    assert redacted("https://hc-ping.com/1f2e3d4c-uuid") == "https://hc-ping.com/…"
    assert ping_url("https://hc-ping.com/abc/", healthy=False) == "https://hc-ping.com/abc/fail"
    assert ping_url("https://hc-ping.com/abc", healthy=True) == "https://hc-ping.com/abc"


async def test_an_unhealthy_selfreg_pings_the_fail_url_and_a_dead_server_is_no_error() -> None:
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    healthy = [True]
    try:
        async with aiohttp.ClientSession() as http:
            beat = Heartbeat(f"{base}/ping/x", http, lambda: healthy[0], every=60, timeout=2)
            assert await beat.ping()
            healthy[0] = False
            assert await beat.ping()
            dead = Heartbeat(f"http://127.0.0.1:{free_port()}/x", http, bool, every=60, timeout=2)
            assert not await dead.ping()
            assert dead.failed == 1 and "cannot connect to 127.0.0.1" in (dead.last_error or "")
    finally:
        await runner.cleanup()
    assert seen == ["/ping/x", "/ping/x/fail"]

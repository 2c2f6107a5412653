"""The heartbeat: ``selfreg run`` GETs SELFREG_HEARTBEAT_URL at the configured interval, and a
heartbeat server that fails or hangs never disturbs selfreg (nor sees its URL logged)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env

SECRET = "6f1c2a8e-secret-check-uuid"
CONFIG = """
[heartbeat]
every = "200ms"
timeout = "300ms"
"""


class PingServer:
    """A dead-man's switch stand-in: records every ping path; answers 200, 500 or never."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.answer = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        if self.answer == 0:  # hang past the client's timeout
            await asyncio.sleep(5)
        return web.Response(text="OK", status=self.answer or 200)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}"
        finally:
            await runner.cleanup()

    async def wait_for_pings(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.paths) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(self.paths) >= count, self.paths


def health(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
        return response.status, json.loads(response.read())


async def test_selfreg_pings_the_heartbeat_url_at_the_configured_interval(tmp_path: Path) -> None:
    server = PingServer()
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG)
    async with server.running() as base:
        env = selfreg_env(tmp_path / "data", SELFREG_HEARTBEAT_URL=f"{base}/ping/{SECRET}")
        selfreg = SelfregProcess(config, env)
        try:
            await asyncio.to_thread(selfreg.wait_ready)
            began = time.monotonic()
            before = len(server.paths)
            await server.wait_for_pings(before + 5)
            took = time.monotonic() - began
        finally:
            await asyncio.to_thread(selfreg.stop)
    assert took < 5.0  # five pings 200 ms apart, with room for a busy machine
    assert set(server.paths) == {f"/ping/{SECRET}"}  # healthy: never /fail


async def test_a_failing_heartbeat_server_does_not_disturb_selfreg(tmp_path: Path) -> None:
    server = PingServer()
    server.answer = 500
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG)
    async with server.running() as base:
        env = selfreg_env(tmp_path / "data", SELFREG_HEARTBEAT_URL=f"{base}/ping/{SECRET}")
        selfreg = SelfregProcess(config, env)
        try:
            url = await asyncio.to_thread(selfreg.wait_ready)
            await server.wait_for_pings(3)
            server.answer = 0  # now it hangs: each ping times out after 300 ms
            hung = len(server.paths)
            await server.wait_for_pings(hung + 3)
            status, body = await asyncio.to_thread(health, url)
            assert status == 200 and body["status"] == "ok"
            beat = body["heartbeat"]  # counted where an operator looks, without the URL
            assert beat["enabled"] and beat["failed"] >= 3 and beat["sent"] == 0
            assert beat["last_error"] in ("HTTP 500", "timed out")
            assert SECRET not in json.dumps(body)
            shown = await asyncio.to_thread(run_cli, "status", "--config", str(config), env=env)
            assert re.search(r"Heartbeat: 0 sent, \d+ failed \(last: ", shown.stdout)
            await asyncio.to_thread(
                selfreg.wait_for, r"heartbeat to http://127\.0\.0\.1/… failed: timed out", 10
            )
        finally:
            assert await asyncio.to_thread(selfreg.stop) == 0
    output = "".join(selfreg.output)
    assert "heartbeat to http://127.0.0.1/… failed: HTTP 500" in output
    assert SECRET not in output  # the URL is a secret: never logged whole

"""The public side shared by the stand-in tunnel agents: every request is forwarded to one
upstream, as the ngrok or Cloudflare edge would forward a visitor's request through the tunnel.

``edge_app(upstream, refused, hits)`` answers what the upstream answers; when the upstream refuses,
``refused()`` builds the answer (ngrok's ``ERR_NGROK_8012``, Cloudflare's 502). ``serve`` runs
aiohttp applications on 127.0.0.1 ports until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import aiohttp
from aiohttp import web


def edge_app(
    upstream: str, refused: Callable[[str], web.Response], hits: list[int]
) -> web.Application:
    """An application forwarding every GET to ``upstream`` (path and query kept), counting
    requests in ``hits[0]`` and failed ones in ``hits[1]``."""

    async def forward(request: web.Request) -> web.Response:
        hits[0] += 1
        target = upstream.rstrip("/") + request.path_qs
        try:
            async with aiohttp.ClientSession() as session, session.get(target) as answer:
                return web.Response(status=answer.status, body=await answer.read())
        except aiohttp.ClientConnectorError:
            hits[1] += 1
            return refused(target)

    app = web.Application()
    app.router.add_get("/{tail:.*}", forward)
    return app


async def _serve(apps: dict[int, web.Application]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runners = []
    for port, app in apps.items():
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    print("serving on 127.0.0.1 ports " + ", ".join(map(str, apps)), flush=True)
    await stop.wait()
    for runner in runners:
        await runner.cleanup()


def serve(apps: dict[int, web.Application]) -> None:
    """Serve each application on its 127.0.0.1 port until SIGTERM or SIGINT."""
    asyncio.run(_serve(apps))

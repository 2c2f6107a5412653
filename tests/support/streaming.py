"""A loopback server whose answer arrives in many small writes, as a large body does over a
real network: a reader that takes only what has arrived so far gets its first part only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from tests.support.servers import serve_app


@contextlib.asynccontextmanager
async def streaming_server(
    body: bytes, content_type: str = "application/json", piece: int = 4096
) -> AsyncIterator[str]:
    """A server answering ``GET /`` with ``body`` sent ``piece`` bytes at a time, each write
    flushed and followed by a turn of the loop; yields its base URL."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):  # a reader that stopped at its cap
            for start in range(0, len(body), piece):
                await response.write(body[start : start + piece])
                await asyncio.sleep(0.001)
            await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/", answer)
    async with serve_app(app) as url:
        yield url

"""A tiny forward proxy on 127.0.0.1 that records what it is asked and answers itself.

An ``http://`` request through a proxy arrives in absolute form (``POST http://host/path``):
the proxy records the line and answers 204 without going anywhere. An ``https://`` request
arrives as ``CONNECT host:443``: recorded and refused (403), so the client fails after the
proxy has seen where it wanted to go. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class RecordingProxy:
    """The request lines it received, in order (``requests``); its URL is ``url``."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            line, *headers = head.decode("latin-1").split("\r\n")
            self.requests.append(line)
            length = next(
                (
                    int(h.split(":", 1)[1])
                    for h in headers
                    if h.lower().startswith("content-length:")
                ),
                0,
            )
            if length:
                await asyncio.wait_for(reader.readexactly(length), 5)
            status = "403 Forbidden" if line.startswith("CONNECT ") else "204 No Content"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def recording_proxy() -> AsyncIterator[RecordingProxy]:
    proxy = RecordingProxy()
    server = await asyncio.start_server(proxy._serve, "127.0.0.1", 0)
    proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield proxy
    finally:
        server.close()
        await server.wait_closed()

"""Reading an HTTP body whole, up to a cap: the one way checks (and the hooks) read one.

``StreamReader.read(n)`` returns what has arrived so far, at most ``n`` bytes; for an answer
larger than one network read that is only its first part, so a JSON document cut there does
not parse and its fields read as missing. ``read_capped`` reads until the body ends or the cap
is reached, so a large answer is read whole and a huge one cannot fill memory.
"""

from __future__ import annotations

import aiohttp


async def read_capped(content: aiohttp.StreamReader, cap: int) -> bytes:
    """The whole body up to ``cap`` bytes (more is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in content.iter_chunked(1 << 16):
        chunks.append(chunk)
        size += len(chunk)
        if size >= cap:
            break
    return b"".join(chunks)[:cap]

"""read_capped: a body that arrives in many pieces is read whole, and never past the cap."""

from __future__ import annotations

import aiohttp

from checks.bodies import read_capped
from tests.support.streaming import streaming_server

BODY = b"".join(b"%06d," % n for n in range(50_000))  # 350 KB, arriving 4 KB at a time


async def test_a_body_arriving_in_pieces_is_read_whole(http: aiohttp.ClientSession) -> None:
    async with streaming_server(BODY) as url, http.get(url + "/") as response:
        assert await read_capped(response.content, 1 << 20) == BODY


async def test_a_body_past_the_cap_is_cut_at_the_cap(http: aiohttp.ClientSession) -> None:
    async with streaming_server(BODY) as url, http.get(url + "/") as response:
        assert await read_capped(response.content, 100_000) == BODY[:100_000]

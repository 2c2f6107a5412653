"""The floor under ``bench/overhead.py``'s figures: a bare aiohttp client doing only what the
50 http checks do (a GET of each endpoint every interval, the body read) and nothing else.

Run by ``overhead.py`` as ``python bench/floor_poller.py PORT ENDPOINTS SECONDS`` against the
same server as selfreg, measured the same way: what selfreg costs above it is its own work
(the process checks, recording, the models, Slack, scheduling). The GETs go one after another
(the cheapest way: no task per request, and never more than one connection at a time, so a
small server's listen queue never overflows), on one session made as selfreg makes its own
(no cookie jar, no environment read per request).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

HOST = "127.0.0.1"


async def poll(port: int, endpoints: int, every: float) -> None:
    """GET every endpoint once per ``every`` seconds, forever."""
    urls = [f"http://{HOST}:{port}/e{n}" for n in range(endpoints)]
    timeout = aiohttp.ClientTimeout(total=4.5)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        while True:
            started = time.monotonic()
            for url in urls:
                async with session.get(url, timeout=timeout) as response:
                    await response.content.read(1 << 20)
            await asyncio.sleep(max(every - (time.monotonic() - started), 0.0))


def start(port: int, endpoints: int, every: float) -> subprocess.Popen[bytes]:
    """The poller in its own process, so that its CPU can be read like selfreg's."""
    return subprocess.Popen(
        [sys.executable, str(Path(__file__)), str(port), str(endpoints), str(every)]
    )


if __name__ == "__main__":
    asyncio.run(poll(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))

"""TCP connections that 100 Slack posts open: slack_sdk's default against selfreg's pool.

slack_sdk's ``AsyncWebClient`` built without ``session=`` opens an aiohttp session for every
Web API call, so every ``chat.postMessage`` is a new TCP connection (and, against Slack, a
new TLS handshake). selfreg builds its client over the runtime's shared session
(``bot.slack.client.make_client(connection, http)``), so calls reuse keep-alive connections.
Both are measured in the same run against the Slack stand-in on 127.0.0.1, which counts the
TCP connections that carried a request.

    PYTHONPATH=$PWD python3 bench/slack_connections.py [--posts 100]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import SlackConnection  # noqa: E402
from bot.runtime.factories import make_http_session  # noqa: E402
from bot.slack.client import make_client  # noqa: E402
from tests.support.slack_standin import SlackEmulator  # noqa: E402

CHANNEL = "C0ALERTS"


async def post(emulator: SlackEmulator, posts: int, pooled: bool) -> tuple[int, float]:
    """Post ``posts`` messages; the connections the stand-in accepted and the seconds taken."""
    connection = SlackConnection(
        mode="post", bot_token=emulator.config.bot_token, api_url=emulator.base_url
    )
    http = make_http_session() if pooled else None
    client = make_client(connection, http)
    before = emulator.http_connections()
    began = time.perf_counter()
    try:
        for n in range(posts):
            await client.chat_postMessage(channel=CHANNEL, text=f"post {n}")
    finally:
        if http is not None:
            await http.close()
    return emulator.http_connections() - before, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100)
    posts = parser.parse_args().posts
    with SlackEmulator() as emulator:
        emulator.add_channel(CHANNEL, "alerts", members=[emulator.config.bot_user_id])
        rows = [
            ("slack_sdk default (no session=)", *asyncio.run(post(emulator, posts, False))),
            ("selfreg (the runtime's session)", *asyncio.run(post(emulator, posts, True))),
        ]
    print(f"{posts} chat.postMessage calls against the Slack stand-in on 127.0.0.1")
    print(f"{'client':<34}{'TCP connections':>16}{'seconds':>10}")
    for name, connections, seconds in rows:
        print(f"{name:<34}{connections:>16}{seconds:>10.2f}")


if __name__ == "__main__":
    main()

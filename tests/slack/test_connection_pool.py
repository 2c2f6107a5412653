"""Slack Web API calls share the runtime's connection pool: 100 posts, few TCP connections.

The stand-in counts the TCP connections that carried a request; ``bench/slack_connections.py``
prints the same count for slack_sdk's default client beside it.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from bot.config import load_settings
from bot.runtime import build
from tests.support.clock import FakeClock
from tests.support.slack_selfreg import CHANNEL, slack_env
from tests.support.slack_standin import SlackEmulator

CONFIG = """
[models]
anomaly = false
failure_risk = false
forecast = false
"""


async def test_the_runtimes_slack_client_posts_100_messages_over_few_connections(
    tmp_path: Path,
) -> None:
    (tmp_path / "selfreg.toml").write_text(CONFIG)
    with SlackEmulator() as emulator:
        emulator.add_channel(CHANNEL, "alerts", members=[emulator.config.bot_user_id])
        env = slack_env(emulator, tmp_path / "data", mode="post")
        config = load_settings(str(tmp_path / "selfreg.toml"), env)
        parts = build(config, clock=FakeClock(time.time()), out=io.StringIO())
        try:
            assert parts.slack_client is not None
            before = emulator.http_connections()
            for n in range(100):
                await parts.slack_client.chat_postMessage(channel=CHANNEL, text=f"post {n}")
            used = emulator.http_connections() - before
        finally:
            await parts.http.close()
            parts.store.close()
        assert len(emulator.messages(CHANNEL)) == 100
    assert 1 <= used <= 2, f"{used} connections for 100 posts: the pool is not shared"


async def test_closing_the_runtimes_session_closes_the_slack_clients_pool(tmp_path: Path) -> None:
    (tmp_path / "selfreg.toml").write_text(CONFIG)
    with SlackEmulator() as emulator:
        env = slack_env(emulator, tmp_path / "data", mode="post")
        config = load_settings(str(tmp_path / "selfreg.toml"), env)
        parts = build(config, clock=FakeClock(time.time()), out=io.StringIO())
        assert parts.slack_client is not None
        await parts.slack_client.auth_test()
        await parts.http.close()
        parts.store.close()
        session = parts.slack_client.session
        assert session is not None and session.closed

"""The Slack half of selfreg in the test's own event loop: what a test does to it.

``Selfreg`` holds the real parts (built by the ``selfreg`` fixture in tests/slack/conftest.py)
and drives them the way Slack and the scheduler would: run the checks, deliver the outbox,
hand Bolt a slash command or a click built from the stand-in's stored message. Bolt acks
first and finishes a listener afterwards, so ``eventually`` polls, briefly and on this loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import LoadedConfig
from bot.engine.alerting import Alerting
from bot.engine.runner import CheckRunner
from bot.notify.outbox import OutboxWorker
from bot.records import Incident
from bot.slack.app import SlackApp
from bot.slack.commands import Commands
from bot.slack.delivery import SlackNotifier
from bot.store import Store
from bot.store import incidents as rows
from tests.support.clock import FakeClock
from tests.support.slack_selfreg import CHANNEL
from tests.support.slack_standin import Message, SlackEmulator, payloads

if TYPE_CHECKING:
    from bot.runtime import Parts

T = TypeVar("T")


async def eventually(predicate: Callable[[], T], timeout: float = 2.0) -> T:
    """Poll ``predicate`` on this loop (Bolt finishes a listener after its ack) until truthy."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {timeout:.1f} s")
        await asyncio.sleep(0.01)
    return result


def read_rows(store: Store, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    """Rows read through a connection of our own to the store's file (never the store's)."""
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True, timeout=5)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@dataclass
class Selfreg:
    """The parts under test, and what a test does to them: run checks, deliver, talk to Bolt."""

    emu: SlackEmulator
    store: Store
    clock: FakeClock
    config: LoadedConfig
    client: AsyncWebClient
    runner: CheckRunner
    alerting: Alerting
    notifier: SlackNotifier
    outbox: OutboxWorker
    commands: Commands
    slack: SlackApp
    reloads: list[str] = field(default_factory=list)
    delivery_parts: Callable[[], tuple[SlackNotifier, OutboxWorker]] | None = None

    def restart_delivery(self) -> int:
        """New SlackNotifier and OutboxWorker on the same store, as after a ``kill -9``; the
        claims the dead worker held are released (returns how many)."""
        assert self.delivery_parts is not None
        self.notifier, self.outbox = self.delivery_parts()
        return self.outbox.release_claims()

    async def run_checks(self) -> None:
        """One scheduled run of every check (db fails, cache answers), then one delivery pass."""
        await self.runner.run_interval(1.0)
        await self.deliver()

    async def deliver(self) -> float:
        """One pass of the outbox worker: every row due now on the fake clock."""
        return await self.outbox.deliver_due()

    def incident(self, check: str = "db") -> Incident:
        """The latest incident of ``check``, as stored."""
        [found] = [i for i in rows.recent_incidents(self.store, 50) if i.check == check][:1]
        return found

    def message(self, check: str = "db") -> Message:
        """The stand-in's copy of the incident's Slack message (latest revision)."""
        incident = self.incident(check)
        assert incident.slack_ts is not None, "the incident has not been posted"
        message = self.emu.message(CHANNEL, incident.slack_ts)
        assert message is not None
        return message

    def outbox_rows(self) -> list[sqlite3.Row]:
        """The Slack outbox rows, oldest first."""
        return read_rows(self.store, "SELECT * FROM outbox WHERE channel = 'slack' ORDER BY id")

    def top_level(self) -> list[Message]:
        """The bot's messages in the alert channel itself, not thread replies."""
        return [
            m
            for m in self.emu.messages(CHANNEL)
            if m.thread_ts in (None, m.ts) and m.user == self.emu.config.bot_user_id
        ]

    async def dispatch(self, payload: dict[str, Any]) -> BoltResponse:
        """Bolt's own entrance, as the socket-mode handler calls it for one envelope."""
        request = AsyncBoltRequest(body=payload, mode="socket_mode")
        return await self.slack.app.async_dispatch(request)

    async def slash(self, text: str, *, user: str) -> BoltResponse:
        """``/selfreg <text>`` typed by ``user`` in the alert channel; the ack is returned."""
        store = self.emu.store
        payload = payloads.slash(
            store,
            command="/selfreg",
            text=text,
            user=user,
            channel=CHANNEL,
            response_url=store.new_hook(self.emu.root_url, "commands", CHANNEL, user),
            trigger_id=store.issue_trigger(user),
        )
        return await self.dispatch(payload)

    async def click(self, message: Message, action_id: str, *, user: str) -> BoltResponse:
        """A click on ``action_id`` in ``message`` as the stand-in stored it (block_ids and all)."""
        store = self.emu.store
        origin = (message.channel, message.ts)
        payload = payloads.block_actions(
            store,
            message=message,
            action_id=action_id,
            user=user,
            response_url=store.new_hook(
                self.emu.root_url, "actions", message.channel, user, origin
            ),
            trigger_id=store.issue_trigger(user),
        )
        return await self.dispatch(payload)

    def hooks_with(self, text: str) -> list[Any]:
        """Posts to response URLs (ephemeral replies) that contain ``text``."""
        return [h for h in self.emu.hooks() if text in str(h)]


QUIET = """
[alerts]
console = false
update_every = "1s"

[models]
anomaly = false
failure_risk = false
forecast = false
"""
"""The start of an in-process test's config: no console lines, fast updates, no models."""


def standin_env(emu: SlackEmulator, data: Path) -> dict[str, str]:
    """The environment of a selfreg talking to the Slack stand-in, its data in ``data``."""
    return {
        "SELFREG_DATA_DIR": str(data),
        "SELFREG_WEB_PORT": "0",
        "SLACK_BOT_TOKEN": emu.config.bot_token,
        "SLACK_APP_TOKEN": emu.config.app_token,
        "SLACK_API_URL": emu.base_url,
        "SLACK_CHANNEL": CHANNEL,
    }


@contextlib.asynccontextmanager
async def built(
    emu: SlackEmulator, config: LoadedConfig, clock: FakeClock
) -> AsyncIterator[tuple[Selfreg, Parts]]:
    """selfreg as ``build`` makes it, driven through ``Selfreg``; closed afterwards."""
    from bot.runtime import build

    parts = build(config, clock=clock, out=io.StringIO())
    assert parts.slack_client and parts.slack_notifier and parts.commands and parts.slack
    driver = Selfreg(
        emu=emu, store=parts.store, clock=clock, config=config, client=parts.slack_client,
        runner=parts.runner, alerting=parts.alerting, notifier=parts.slack_notifier,
        outbox=parts.outbox, commands=parts.commands, slack=parts.slack,
    )  # fmt: skip
    try:
        yield driver, parts
    finally:
        await parts.http.close()
        parts.store.close()

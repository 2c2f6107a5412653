"""Slack hears when the store cannot record, and when it can again, without the store.

Every other Slack message goes through the outbox, a table in the store: when the disk is
full, read-only or the store is locked by another process, that path is the one that is
broken. ``StoreFaultNotices`` listens to the store (``Store.on_write_fault``) and posts two
plain messages straight to the alert channel: one when writes start failing (with SQLite's
reason) and one when they work again (how long it lasted, what was refused). A nearly full
disk flaps (a small write fits, the next does not): the second message waits until writes
have worked for ``settle`` seconds, and a fault within that time continues the same episode,
so one episode is two messages. They wait in memory, in order, at most ``KEEP`` of them;
each is tried ``attempts`` times with a growing pause (Slack's Retry-After when it gives
one), then dropped with a console line. Nothing here blocks: the store calls ``__call__`` on
the loop and a task does the posting. The console hears each change from the store's own
log lines.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.errors import PermanentDeliveryError
from bot.slack.delivery import classify
from bot.store.db import WriteFault

log = logging.getLogger(__name__)

ATTEMPTS = 6  # per message: about a minute of pauses (1, 2, 4, 8, 16 s) before it is dropped
FIRST_PAUSE = 1.0
LONGEST_PAUSE = 30.0
KEEP = 8  # messages waiting at most: a store that flaps does not grow memory
SETTLE = 10.0  # seconds writes must work before "records again" is sent


class StoreFaultNotices:
    """Posts the store's write faults to Slack's alert channel, best effort, in memory."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        *,
        attempts: int = ATTEMPTS,
        first_pause: float = FIRST_PAUSE,
        settle: float | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.attempts = attempts
        self.first_pause = first_pause
        self.settle = SETTLE if settle is None else settle
        self.sent = 0
        self.dropped = 0
        self._waiting: deque[str] = deque(maxlen=KEEP)
        self._task: asyncio.Task[None] | None = None
        self._episode: tuple[str, float, int] | None = None  # (path, since, writes refused)
        self._settling: asyncio.TimerHandle | None = None

    def __call__(self, fault: WriteFault) -> None:
        """The store's listener: a new episode is told at once, its end once it settled."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a CLI command writing): the console has it
            return
        if fault.error is not None:
            if self._settling is not None:  # it flapped: the same episode goes on
                self._settling.cancel()
                self._settling = None
            if self._episode is None:
                self._episode = (fault.path, time.monotonic(), 0)
                self._send(loop, messages.store_fault_slack(fault.path, fault.error))
            return
        if self._episode is not None:
            path, since, refused = self._episode
            self._episode = (path, since, refused + fault.refused)
            self._settling = loop.call_later(self.settle, self._settled, loop, time.monotonic())

    def _settled(self, loop: asyncio.AbstractEventLoop, recovered_at: float) -> None:
        self._settling = None
        if self._episode is not None:
            path, since, refused = self._episode
            self._episode = None
            lasted = recovered_at - since
            self._send(loop, messages.store_fault_over_slack(path, lasted, refused))

    def _send(self, loop: asyncio.AbstractEventLoop, text: str) -> None:
        self._waiting.append(text)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._post_waiting(), name="store-fault-notices")

    async def _post_waiting(self) -> None:
        while self._waiting:
            text = self._waiting.popleft()
            if await self._post(text):
                self.sent += 1
            else:
                self.dropped += 1

    async def _post(self, text: str) -> bool:
        """One message, tried ``attempts`` times; False when it could not be sent."""
        error = ""
        for attempt in range(self.attempts):
            pause = min(self.first_pause * 2**attempt, LONGEST_PAUSE)
            try:
                await self.client.chat_postMessage(channel=self.channel, text=text)
                return True
            except SlackApiError as exc:
                failure = classify(exc)
                error = failure.reason
                if isinstance(failure, PermanentDeliveryError):
                    break
                pause = max(pause, min(failure.retry_after or 0.0, LONGEST_PAUSE))
            except Exception as exc:  # network, timeout, anything: best effort, never raised
                error = f"{type(exc).__name__}: {exc}"
            if attempt + 1 < self.attempts:
                await asyncio.sleep(pause)
        log.warning(messages.store_fault_notice_dropped(self.attempts, error))
        return False

    async def close(self) -> None:
        """Stop posting (at shutdown): what is still waiting is dropped."""
        if self._settling is not None:
            self._settling.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

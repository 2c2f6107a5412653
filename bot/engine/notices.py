"""Notices: plain messages to every channel (not incidents), through the durable outbox.

"selfreg started", "config reloaded: + check disk", "recovered from a crash": things people
should read once, with nothing to acknowledge. Each one is an outbox row of kind
``notice.post`` per channel, written in one transaction with an event row, so a Slack outage
delays a notice and never loses it. ``Announcer.post`` is the one way to post a notice.

Channels: Slack (a plain message in the alert channel), the console and the JSON log (when
its ``min_severity`` is ``info``: notices are severity info, DESIGN.md). Email and webhooks
carry incidents only: a mail per config reload would teach people to ignore the mail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from enum import StrEnum

from bot.clock import Clock
from bot.records import Severity
from bot.store import outbox
from bot.store.db import Store

NOTICE_KIND = "notice.post"
NOTICE_CHANNELS = ("slack", "console", "log")


class NoticeEvent(StrEnum):
    POSTED = "notice.posted"


class Announcer:
    """Queues one notice for every channel that takes notices."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        channels: Mapping[str, Severity],
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.channels = [
            name
            for name, floor in channels.items()
            if name in NOTICE_CHANNELS and floor is Severity.INFO
        ]
        self.on_queued = on_queued

    def post(self, text: str, topic: str = "") -> None:
        """Queue ``text`` for every notice channel (and record it), in one transaction.

        ``topic`` names what the notice is about in its event row (e.g. ``config``).
        """
        now = self.clock.now()
        payload = json.dumps({"text": text, "at": now})
        with self.store.transaction():
            for channel in self.channels:
                outbox.enqueue(
                    self.store,
                    channel=channel,
                    kind=NOTICE_KIND,
                    ref=None,
                    payload=payload,
                    due=now,
                    now=now,
                )
            self.store.record_event(NoticeEvent.POSTED, topic, now, text=text)
        if self.channels:
            self.on_queued()

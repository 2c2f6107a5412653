"""The console channel: one line per incident event on selfreg's standard output, in the
line format every part shares (``bot.logline``): the incident's severity as the level, the
check and subject as the logger; JSON lines add the incident's id, check, subject and state."""

from __future__ import annotations

import sys
from typing import TextIO

from bot import logline, messages
from bot.notify.base import OutboxMessage


class ConsoleNotifier:
    """Prints incident events; the channel a newcomer sees before Slack is set up."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def deliver(self, message: OutboxMessage) -> None:
        stream = self._stream or sys.stdout
        if message.kind == "notice.post":  # a plain notice (started, config reloaded)
            logline.write(
                stream, "INFO", "selfreg", message.payload["text"], at=message.payload["at"]
            )
            return
        if message.kind != "incident.notice":
            return
        payload = message.payload
        incident = payload["incident"]
        logline.write(
            stream,
            incident["severity"],
            messages.subject_label(incident["check"], incident["subject"]),
            payload["text"],
            at=incident["last_seen_at"],
            incident=incident.get("id"),
            check=incident["check"],
            subject=incident["subject"],
            state=incident.get("state"),
        )

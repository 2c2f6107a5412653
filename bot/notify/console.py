"""The console channel: one readable line per incident event on selfreg's standard output."""

from __future__ import annotations

import sys
from typing import TextIO

from bot import messages
from bot.notify.base import OutboxMessage


class ConsoleNotifier:
    """Prints incident events; the channel a newcomer sees before Slack is set up."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def deliver(self, message: OutboxMessage) -> None:
        stream = self._stream or sys.stdout
        if message.kind == "notice.post":  # a plain notice (started, config reloaded)
            line = messages.console_notice(
                message.payload["at"], "info", "selfreg", message.payload["text"]
            )
            stream.write(line + "\n")
            stream.flush()
            return
        if message.kind != "incident.notice":
            return
        payload = message.payload
        incident = payload["incident"]
        what = messages.subject_label(incident["check"], incident["subject"])
        line = messages.console_notice(
            incident["last_seen_at"], incident["severity"], what, payload["text"]
        )
        stream.write(line + "\n")
        stream.flush()

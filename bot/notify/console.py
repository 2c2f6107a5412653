"""The console channel: one readable line per transition on selfreg's standard output."""

from __future__ import annotations

import sys
from typing import TextIO

from bot import messages
from bot.notify.base import OutboxMessage


class ConsoleNotifier:
    """Prints transitions; the channel a newcomer sees before Slack is set up."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def deliver(self, message: OutboxMessage) -> None:
        stream = self._stream or sys.stdout
        if message.kind == "transition":
            stream.write(messages.console_transition(message.payload) + "\n")
            stream.flush()

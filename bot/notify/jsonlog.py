"""The log channel: one JSON line per incident event or notice, appended to a file.

Each line is one ``write(2)`` on a file opened with ``O_APPEND``, so lines from this process
and from a log shipper rotating or tailing the file are never interleaved mid-line. There is
no ``fsync``: a line lost to a power cut is acceptable for a log, a disk write per alert is not.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

from bot import messages
from bot.clock import Clock, SystemClock
from bot.errors import DeliveryError
from bot.notify.base import OutboxMessage

log = logging.getLogger(__name__)


class JsonLogNotifier:
    """Appends ``{"at", "id", "notice", "text", "mentions", "incident"}`` lines to ``path``."""

    name = "log"

    def __init__(self, path: Path, *, clock: Clock | None = None) -> None:
        self.path = path
        self.clock = clock or SystemClock()

    async def deliver(self, message: OutboxMessage) -> None:
        """Append one line; ``DeliveryError`` when the file cannot be written (a full disk clears)."""
        payload = message.payload
        if message.kind == "notice.post":  # a plain notice: no incident attached
            record: dict[str, Any] = {
                "at": self.clock.now(),
                "id": message.id,
                "notice": "notice",
                "text": payload["text"],
            }
        elif message.kind == "incident.notice":
            record = {
                "at": self.clock.now(),
                "id": message.id,
                "notice": payload["notice"],
                "text": payload["text"],
                "mentions": list(payload.get("mentions", [])),
                "incident": dict(payload["incident"]),
            }
        else:
            return
        line = json.dumps(record, ensure_ascii=False) + "\n"  # dumps escapes newlines in values
        try:
            await asyncio.to_thread(self._append, line.encode("utf-8"))
        except OSError as exc:
            # Transient on purpose: a full disk, a missing mount or a permission fixed by the
            # operator all clear without changing selfreg, so the row is retried.
            raise DeliveryError(
                self.name, messages.log_not_written(str(self.path), messages.error_text(exc))
            ) from exc
        log.debug("outbox row %s appended to %s", message.id, self.path)

    def _append(self, data: bytes) -> None:
        """Create the folder if needed and append ``data`` in one write call."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            written = os.write(fd, data)
        finally:
            os.close(fd)
        if written != len(data):  # only on a disk that filled up during the write
            raise OSError(messages.short_write(written, len(data)))

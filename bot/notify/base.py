"""The notifier contract: deliver one outbox message to one channel, or say why not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxMessage:
    """One claimed outbox row."""

    id: int
    channel: str
    kind: str
    ref: int | None = None
    payload: Mapping[str, Any]
    attempts: int


class Notifier(Protocol):
    """A delivery channel (console, Slack, email, webhook)."""

    name: str

    async def deliver(self, message: OutboxMessage) -> None:
        """Deliver one message.

        Raises ``bot.errors.DeliveryError`` for a failure worth retrying (network, 429, 5xx;
        ``retry_after`` set when the far end said when) and ``PermanentDeliveryError`` for one
        that retrying cannot fix (bad token, unknown channel).
        """
        ...

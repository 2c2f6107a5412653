"""The ``outbox`` table: messages waiting for, or done with, delivery."""

from __future__ import annotations

from typing import Any

from bot.store.db import Store


def failed_deliveries(store: Store, since: float, limit: int = 20) -> list[dict[str, Any]]:
    """Rows that failed for good after ``since``, newest first (shown in /status)."""
    rows = store.conn.execute(
        "SELECT id, channel, kind, failed_at, last_error FROM outbox WHERE failed_at > ? "
        "ORDER BY id DESC LIMIT ?",
        (since, limit),
    ).fetchall()
    return [dict(r) for r in rows]

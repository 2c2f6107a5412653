"""The outbox table: rows queued for a channel, claimed, delivered, retried or failed.

Writers queue rows inside the transaction that caused them (an incident change, a notice);
the outbox worker claims a row with a conditional UPDATE (row count 1 means it is ours),
delivers it and records the outcome. Every statement on the table lives here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from bot.store.db import Store

_PENDING = "delivered_at IS NULL AND failed_at IS NULL"


def enqueue(
    store: Store,
    *,
    channel: str,
    kind: str,
    ref: int | None,
    payload: Mapping[str, Any] | str,
    due: float,
    now: float,
) -> None:
    """Queue one row for ``channel``, due at ``due`` (a JSON string payload is kept as is)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    store._conn.execute(
        "INSERT INTO outbox (created_at, channel, kind, ref, payload, next_attempt_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (now, channel, kind, ref, text, due),
    )


def hasten_pending(store: Store, *, channel: str, kind: str, ref: int, due: float) -> bool:
    """Coalesce into a pending row of the same (channel, kind, ref) nobody holds; True if one
    was found (the new change rides on it instead of queuing another row).

    A row never tried yet is brought forward to ``due``. A row that has failed at least once
    keeps its ``next_attempt_at``: that is a Retry-After or a back-off, and a new change must
    not make it due at once (it would hammer a rate-limited or unreachable channel).
    """
    cursor = store._conn.execute(
        "UPDATE outbox SET next_attempt_at = CASE WHEN attempts = 0 "
        "THEN min(next_attempt_at, ?) ELSE next_attempt_at END WHERE channel = ? "
        f"AND kind = ? AND ref = ? AND {_PENDING} AND claimed_until IS NULL",
        (due, channel, kind, ref),
    )
    return cursor.rowcount > 0


def release_claims(store: Store) -> int:
    """Free every claim still held on an undelivered row; returns how many."""
    with store.transaction():
        cursor = store._conn.execute(
            f"UPDATE outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL AND {_PENDING}"
        )
    return cursor.rowcount


def pending_count(store: Store) -> int:
    """Rows neither delivered nor failed for good."""
    row = store._conn.execute(f"SELECT count(*) FROM outbox WHERE {_PENDING}").fetchone()
    return int(row[0])


def _marks(channels: Sequence[str]) -> str:
    return ", ".join("?" for _ in channels) or "NULL"


def unclaimed(store: Store, channels: Sequence[str], now: float) -> list[sqlite3.Row]:
    """Pending rows of ``channels`` nobody holds now, oldest first (at most 500)."""
    return store._conn.execute(
        "SELECT id, channel, kind, ref, payload, attempts, next_attempt_at FROM outbox "
        f"WHERE {_PENDING} AND (claimed_until IS NULL OR claimed_until < ?) "
        f"AND channel IN ({_marks(channels)}) ORDER BY id LIMIT 500",
        (now, *channels),
    ).fetchall()


def claim(store: Store, row_id: int, now: float, until: float) -> bool:
    """Claim one row until ``until`` (counting the attempt); False if someone else holds it."""
    cursor = store._conn.execute(
        "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1 WHERE id = ? "
        f"AND {_PENDING} AND (claimed_until IS NULL OR claimed_until < ?)",
        (until, row_id, now),
    )
    return cursor.rowcount == 1


def mark_failed(store: Store, row_id: int, now: float, reason: str) -> None:
    """A permanent failure: the row is never tried again (caller's transaction)."""
    store._conn.execute(
        "UPDATE outbox SET failed_at = ?, last_error = ?, claimed_until = NULL WHERE id = ?",
        (now, reason, row_id),
    )


def mark_delivered(store: Store, row_id: int, now: float) -> None:
    store._conn.execute(
        "UPDATE outbox SET delivered_at = ?, claimed_until = NULL, last_error = NULL WHERE id = ?",
        (now, row_id),
    )


def retry_at(store: Store, row_id: int, at: float, reason: str) -> None:
    """A transient failure: the row is due again at ``at``."""
    store._conn.execute(
        "UPDATE outbox SET next_attempt_at = ?, claimed_until = NULL, last_error = ? WHERE id = ?",
        (at, reason, row_id),
    )


def next_due(store: Store, channels: Sequence[str]) -> float | None:
    """When the earliest pending row of ``channels`` is due; None when nothing is pending."""
    row = store._conn.execute(
        f"SELECT min(next_attempt_at) FROM outbox WHERE {_PENDING} "
        f"AND channel IN ({_marks(channels)})",
        tuple(channels),
    ).fetchone()
    return None if row[0] is None else float(row[0])


def failed_deliveries(store: Store, since: float, limit: int = 20) -> list[dict[str, Any]]:
    """Rows that failed for good since ``since``, newest first (``/status`` shows them)."""
    rows = store._conn.execute(
        "SELECT id, channel, kind, failed_at, last_error FROM outbox WHERE failed_at > ? "
        "ORDER BY id DESC LIMIT ?",
        (since, limit),
    ).fetchall()
    return [dict(r) for r in rows]

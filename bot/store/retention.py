"""Housekeeping: one-minute rollups of raw samples, and pruning past the retention windows."""

from __future__ import annotations

from bot.records import EventKind
from bot.store.db import Store


def roll_up(store: Store, now: float) -> int:
    """Fold raw samples of every finished minute into ``rollups``; returns rows written.

    Idempotent: a minute already rolled up is recomputed from the same samples, so running
    it twice, or after a crash half-way, gives the same rows.
    """
    current_minute = int(now // 60)
    row = store._conn.execute("SELECT coalesce(max(minute), -1) FROM rollups").fetchone()
    since = max(row[0], current_minute - 24 * 60) * 60
    with store.transaction() as conn:
        cursor = conn.execute(
            """
            INSERT INTO rollups (series, minute, count, min, max, sum)
            SELECT series, CAST(at / 60 AS INTEGER) AS minute, count(*), min(value), max(value),
                   sum(value)
            FROM samples WHERE at >= ? AND at < ?
            GROUP BY series, minute
            ON CONFLICT (series, minute) DO UPDATE SET count = excluded.count,
                min = excluded.min, max = excluded.max, sum = excluded.sum
            """,
            (since, current_minute * 60),
        )
        return cursor.rowcount


def prune(
    store: Store, now: float, *, samples_for: float, rollups_for: float, events_for: float
) -> dict[str, int]:
    """Delete raw samples, rollups, events and delivered outbox rows past their windows."""
    removed = {}
    with store.transaction() as conn:
        removed["samples"] = conn.execute(
            "DELETE FROM samples WHERE at < ?", (now - samples_for,)
        ).rowcount
        removed["rollups"] = conn.execute(
            "DELETE FROM rollups WHERE minute < ?", (int((now - rollups_for) // 60),)
        ).rowcount
        removed["events"] = conn.execute(
            "DELETE FROM events WHERE at < ?", (now - events_for,)
        ).rowcount
        removed["outbox"] = conn.execute(
            "DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?",
            (now - events_for,),
        ).rowcount
        removed["sync_runs"] = conn.execute(
            "DELETE FROM sync_runs WHERE at < ?", (now - events_for,)
        ).rowcount
        if any(removed.values()):
            store.record_event(EventKind.PRUNED, "", now, **removed)
    return removed

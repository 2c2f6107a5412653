"""The events table, read back: how the previous run ended, what happened since an event.

Rows are appended with ``Store.record_event`` (every state change and internal event gets
one); these are the reads the engine and the CLI make of them. Pruning old rows is
``retention``'s.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from bot.store.db import Store


def last_of(store: Store, *kinds: str) -> tuple[str, float] | None:
    """(kind, at) of the newest event of any of ``kinds``; None if there is none."""
    marks = ", ".join("?" for _ in kinds)
    row = store._conn.execute(
        f"SELECT kind, at FROM events WHERE kind IN ({marks}) ORDER BY id DESC LIMIT 1", kinds
    ).fetchone()
    return None if row is None else (str(row["kind"]), float(row["at"]))


def last_event_id(store: Store) -> int:
    """The id of the newest event (0 for an empty table)."""
    row = store._conn.execute("SELECT max(id) FROM events").fetchone()
    return int(row[0] or 0)


def since(store: Store, kind: str, after_id: int) -> list[tuple[str, dict[str, Any]]]:
    """(subject, detail) of every ``kind`` event after event ``after_id``, oldest first."""
    return [
        (row["subject"], json.loads(row["detail"]))
        for row in store._conn.execute(
            "SELECT subject, detail FROM events WHERE kind = ? AND id > ? ORDER BY id",
            (kind, after_id),
        )
    ]


def last_event_times(store: Store, kind: str) -> dict[str, float]:
    """When each subject last had an event of ``kind`` (the predictor's last fit per model)."""
    return {
        row[0]: row[1]
        for row in store._conn.execute(
            "SELECT subject, max(at) FROM events WHERE kind = ? GROUP BY subject", (kind,)
        )
    }


def first_event_times(store: Store, kind: str) -> dict[str, float]:
    """When each subject first had an event of ``kind`` (a model's first fit)."""
    return {
        row[0]: row[1]
        for row in store._conn.execute(
            "SELECT subject, min(at) FROM events WHERE kind = ? GROUP BY subject", (kind,)
        )
    }


def last_backup_at(store: Store) -> float | None:
    """When the newest successful ``backup.*`` event was recorded; None if none (or the store
    is too old to say)."""
    try:
        row = store._conn.execute(
            "SELECT at, kind FROM events WHERE kind LIKE 'backup.%' AND kind NOT LIKE "
            "'%fail%' ORDER BY at DESC LIMIT 1"
        ).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else float(row["at"])


def recent(
    store: Store, kind: str, since: float, until: float
) -> list[tuple[str, float, dict[str, Any]]]:
    """(subject, at, detail) of every ``kind`` event recorded between ``since`` and ``until``,
    newest first (deploys before an incident)."""
    return [
        (row["subject"], float(row["at"]), json.loads(row["detail"]))
        for row in store._conn.execute(
            "SELECT subject, at, detail FROM events WHERE kind = ? AND at BETWEEN ? AND ? "
            "ORDER BY at DESC, id DESC",
            (kind, since, until),
        )
    ]

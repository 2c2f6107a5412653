"""The latest state of every (check, subject) and each check's own key-value state.

``state`` is what a restart resumes from and what ``selfreg status`` reads when selfreg is not
running; ``check_state`` holds what a check keeps between runs (log offsets, last pids),
written in the same transaction as the run that produced it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from bot.records import LatestState
from bot.store.db import Store
from checks.base import Status

_UPSERT_STATE = (
    'INSERT INTO state ("check", subject, status, summary, "values", error, at, confirmed, '
    "confirmed_at, streak, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    'ON CONFLICT ("check", subject) DO UPDATE SET status = excluded.status, '
    'summary = excluded.summary, "values" = excluded."values", error = excluded.error, '
    "at = excluded.at, confirmed = excluded.confirmed, confirmed_at = excluded.confirmed_at, "
    "streak = excluded.streak, duration = excluded.duration"
)


def _state_row(state: LatestState) -> tuple[Any, ...]:
    return (
        state.check,
        state.subject,
        state.status.value,
        state.summary,
        json.dumps(dict(state.values)),
        state.error,
        state.at,
        state.confirmed.value,
        state.confirmed_at,
        state.streak,
        state.duration,
    )


def save_latest(store: Store, states: Iterable[LatestState]) -> None:
    """Insert or replace the latest-state rows (caller's transaction)."""
    store._conn.executemany(_UPSERT_STATE, [_state_row(s) for s in states])


def load_latest(store: Store) -> dict[tuple[str, str], LatestState]:
    """Every (check, subject)'s latest state, as written by the last run."""
    latest = {}
    for row in store._conn.execute('SELECT * FROM state ORDER BY "check", subject'):
        latest[(row["check"], row["subject"])] = LatestState(
            check=row["check"],
            subject=row["subject"],
            status=Status(row["status"]),
            summary=row["summary"],
            values=json.loads(row["values"]),
            error=row["error"],
            at=row["at"],
            confirmed=Status(row["confirmed"]),
            confirmed_at=row["confirmed_at"],
            streak=row["streak"],
            duration=row["duration"],
        )
    return latest


def forget_checks(store: Store, checks: Collection[str]) -> None:
    """Delete the latest-state rows of ``checks`` (removed from the config)."""
    if not checks:
        return
    marks = ", ".join("?" for _ in checks)
    with store.transaction():
        store._conn.execute(f'DELETE FROM state WHERE "check" IN ({marks})', list(checks))


def save_check_state(store: Store, check: str, writes: Mapping[str, Any]) -> None:
    """Set keys of one check's own state (caller's transaction)."""
    store._conn.executemany(
        'INSERT INTO check_state ("check", key, value) VALUES (?, ?, ?) '
        'ON CONFLICT ("check", key) DO UPDATE SET value = excluded.value',
        [(check, key, json.dumps(value)) for key, value in writes.items()],
    )


def load_check_state(store: Store) -> dict[str, dict[str, Any]]:
    """Every check's key-value state (log offsets, last pids)."""
    state: dict[str, dict[str, Any]] = {}
    for row in store._conn.execute('SELECT "check", key, value FROM check_state'):
        state.setdefault(row["check"], {})[row["key"]] = json.loads(row["value"])
    return state

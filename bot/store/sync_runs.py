"""The ``sync_runs`` table: one row per run of a ``sync`` check (``checks/sync.py``).

Written by ``bot/engine/sync_runs.py`` right after the run is recorded; read by tests, the
status and anyone asking "did the 02:00 sync copy anything?". Pruned with the events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.store.db import Store


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncRun:
    """One sync: when, how it ended, what it moved. Numbers are None when rsync never ran
    (a refused source) or was killed before printing its stats."""

    name: str
    at: float
    status: str
    files: int | None
    bytes: int | None
    duration: float | None
    exit_status: int | None
    summary: str


FIELDS = "name, at, status, files, bytes, duration, exit_status, summary"


def record(store: Store, runs: Iterable[SyncRun]) -> None:
    """Append runs (one transaction of their own, or the caller's)."""
    rows = [
        (r.name, r.at, r.status, r.files, r.bytes, r.duration, r.exit_status, r.summary)
        for r in runs
    ]
    if not rows:
        return
    with store.transaction() as conn:
        conn.executemany(f"INSERT INTO sync_runs ({FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def recent(store: Store, name: str | None = None, limit: int = 20) -> list[SyncRun]:
    """The newest runs first, of one sync or of all."""
    query = f"SELECT {FIELDS} FROM sync_runs"
    args: list[object] = []
    if name is not None:
        query += " WHERE name = ?"
        args.append(name)
    rows = store._conn.execute(query + " ORDER BY at DESC, id DESC LIMIT ?", [*args, limit])
    return [SyncRun(**dict(zip(FIELDS.split(", "), row, strict=True))) for row in rows]

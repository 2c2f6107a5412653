"""The supervisor's tables: one row per component instance (for re-adoption after a crash of
selfreg) and one summary row per component (for ``selfreg status``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.store.db import Store


@dataclass(frozen=True, kw_only=True, slots=True)
class InstanceRow:
    """One instance as stored: its process (pid, start ticks, boot id, argv) when one runs."""

    name: str
    index: int
    pid: int | None = None
    start_ticks: int | None = None
    boot_id: str | None = None
    create_time: float | None = None
    argv: tuple[str, ...] | None = None
    started_at: float | None = None
    restarts: int = 0
    status: str = ""
    last_exit_code: int | None = None
    last_exit_at: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ComponentRow:
    """A component's summary: its first instance's process, restarts, status, last exit."""

    name: str
    pid: int | None
    create_time: float | None
    started_at: float | None
    restarts: int
    status: str
    last_exit_code: int | None
    last_exit_at: float | None


def save_instance(store: Store, row: InstanceRow) -> None:
    """Insert or update an instance's row (caller's transaction)."""
    store._conn.execute(
        "INSERT INTO component_instances (name, instance, pid, start_ticks, boot_id, "
        "create_time, argv, started_at, restarts, status, last_exit_code, last_exit_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (name, instance) DO UPDATE SET pid = excluded.pid, "
        "start_ticks = excluded.start_ticks, boot_id = excluded.boot_id, "
        "create_time = excluded.create_time, argv = excluded.argv, "
        "started_at = excluded.started_at, restarts = excluded.restarts, "
        "status = excluded.status, last_exit_code = excluded.last_exit_code, "
        "last_exit_at = excluded.last_exit_at",
        (
            row.name,
            row.index,
            row.pid,
            row.start_ticks,
            row.boot_id,
            row.create_time,
            json.dumps(list(row.argv)) if row.argv is not None else None,
            row.started_at,
            row.restarts,
            row.status,
            row.last_exit_code,
            row.last_exit_at,
        ),
    )


def save_summary(store: Store, row: ComponentRow) -> None:
    """Insert or update a component's summary row (caller's transaction)."""
    store._conn.execute(
        "INSERT INTO components (name, pid, create_time, started_at, restarts, status, "
        "last_exit_code, last_exit_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, "
        "create_time = excluded.create_time, started_at = excluded.started_at, "
        "restarts = excluded.restarts, status = excluded.status, "
        "last_exit_code = excluded.last_exit_code, last_exit_at = excluded.last_exit_at",
        (
            row.name,
            row.pid,
            row.create_time,
            row.started_at,
            row.restarts,
            row.status,
            row.last_exit_code,
            row.last_exit_at,
        ),
    )


def forget_instance(store: Store, name: str, index: int) -> None:
    """Drop an instance's row (scaled down: that copy no longer exists)."""
    with store.transaction():
        store._conn.execute(
            "DELETE FROM component_instances WHERE name = ? AND instance = ?", (name, index)
        )


def forget_components(store: Store, keep: Sequence[str]) -> None:
    """Drop the summary rows of components not in ``keep``."""
    marks = ", ".join("?" for _ in keep)
    with store.transaction():
        store._conn.execute(f"DELETE FROM components WHERE name NOT IN ({marks})", list(keep))


def load_instances(store: Store) -> list[InstanceRow]:
    """Every stored instance row, by name and index."""
    found = []
    for row in store._conn.execute("SELECT * FROM component_instances ORDER BY name, instance"):
        found.append(
            InstanceRow(
                name=row["name"],
                index=row["instance"],
                pid=row["pid"],
                start_ticks=row["start_ticks"],
                boot_id=row["boot_id"],
                create_time=row["create_time"],
                argv=tuple(json.loads(row["argv"])) if row["argv"] else None,
                started_at=row["started_at"],
                restarts=row["restarts"],
                status=row["status"],
                last_exit_code=row["last_exit_code"],
                last_exit_at=row["last_exit_at"],
            )
        )
    return found


def summaries(store: Store) -> list[dict[str, Any]]:
    """Every component's summary row as a plain dict, by name (the status document)."""
    return [dict(row) for row in store._conn.execute("SELECT * FROM components ORDER BY name")]

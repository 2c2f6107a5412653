"""The supervisor's rows in the store: one per instance (for re-adoption), one per component.

Every change of an instance is written with its event rows in one transaction, so the store
never shows a pid without the event that explains it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.engine.supervisor.processes import Identity
from bot.engine.supervisor.state import ComponentState, Instance
from bot.store.db import Store

Event = tuple[str, dict[str, Any]]


def save(
    store: Store,
    now: float,
    component: ComponentState,
    instance: Instance | None,
    events: Iterable[Event] = (),
) -> None:
    """Write an instance's row (if given), the component's summary row and the events."""
    with store.transaction() as conn:
        if instance is not None:
            _save_instance(conn, instance)
        _save_summary(conn, component)
        for kind, detail in events:
            store.record_event(kind, component.name, now, **detail)


def _save_instance(conn: Any, instance: Instance) -> None:
    identity = instance.identity if instance.pid is not None else None
    conn.execute(
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
            instance.name,
            instance.index,
            identity.pid if identity else None,
            identity.start_ticks if identity else None,
            identity.boot_id if identity else None,
            identity.create_time if identity else None,
            json.dumps(list(identity.argv)) if identity else None,
            instance.started_at,
            instance.restarts,
            instance.status,
            instance.last_exit_code,
            instance.last_exit_at,
        ),
    )


def _save_summary(conn: Any, component: ComponentState) -> None:
    first = component.instances[0] if component.instances else None
    identity = first.identity if first is not None and first.pid is not None else None
    latest = component.latest_exit()
    conn.execute(
        "INSERT INTO components (name, pid, create_time, started_at, restarts, status, "
        "last_exit_code, last_exit_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, "
        "create_time = excluded.create_time, started_at = excluded.started_at, "
        "restarts = excluded.restarts, status = excluded.status, "
        "last_exit_code = excluded.last_exit_code, last_exit_at = excluded.last_exit_at",
        (
            component.name,
            identity.pid if identity else None,
            identity.create_time if identity else None,
            first.started_at if first else None,
            sum(i.restarts for i in component.instances),
            component.status,
            latest.last_exit_code if latest else None,
            latest.last_exit_at if latest else None,
        ),
    )


def forget(store: Store, name: str, index: int) -> None:
    """Drop an instance's row (scaled down: that copy no longer exists)."""
    with store.transaction() as conn:
        conn.execute(
            "DELETE FROM component_instances WHERE name = ? AND instance = ?", (name, index)
        )


def forget_components(store: Store, keep: list[str]) -> None:
    """Drop the summary rows of components no longer configured."""
    marks = ", ".join("?" for _ in keep)
    with store.transaction() as conn:
        conn.execute(f"DELETE FROM components WHERE name NOT IN ({marks})", keep)


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredInstance:
    """An instance as the previous selfreg left it: enough to recognise its process."""

    name: str
    index: int
    identity: Identity | None
    started_at: float | None
    restarts: int


def load(store: Store) -> list[StoredInstance]:
    """Every stored instance row, with the identity of its process when one was running."""
    found = []
    for row in store.conn.execute("SELECT * FROM component_instances ORDER BY name, instance"):
        identity = None
        if row["pid"] is not None and row["start_ticks"] is not None and row["argv"]:
            identity = Identity(
                pid=row["pid"],
                start_ticks=row["start_ticks"],
                boot_id=row["boot_id"],
                create_time=row["create_time"],
                argv=tuple(json.loads(row["argv"])),
            )
        found.append(
            StoredInstance(
                name=row["name"],
                index=row["instance"],
                identity=identity,
                started_at=row["started_at"],
                restarts=row["restarts"],
            )
        )
    return found

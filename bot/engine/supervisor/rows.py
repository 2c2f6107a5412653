"""The supervisor's rows in the store: one per instance (for re-adoption), one per component.

Every change of an instance is written with its event rows in one transaction, so the store
never shows a pid without the event that explains it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.engine.supervisor.processes import Identity
from bot.engine.supervisor.state import ComponentState, Instance
from bot.store import components
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
    with store.transaction():
        if instance is not None:
            components.save_instance(store, _instance_row(instance))
        components.save_summary(store, _summary_row(component))
        for kind, detail in events:
            store.record_event(kind, component.name, now, **detail)


def _instance_row(instance: Instance) -> components.InstanceRow:
    identity = instance.identity if instance.pid is not None else None
    return components.InstanceRow(
        name=instance.name,
        index=instance.index,
        pid=identity.pid if identity else None,
        start_ticks=identity.start_ticks if identity else None,
        boot_id=identity.boot_id if identity else None,
        create_time=identity.create_time if identity else None,
        argv=tuple(identity.argv) if identity else None,
        started_at=instance.started_at,
        restarts=instance.restarts,
        status=instance.status,
        last_exit_code=instance.last_exit_code,
        last_exit_at=instance.last_exit_at,
    )


def _summary_row(component: ComponentState) -> components.ComponentRow:
    first = component.instances[0] if component.instances else None
    identity = first.identity if first is not None and first.pid is not None else None
    latest = component.latest_exit()
    return components.ComponentRow(
        name=component.name,
        pid=identity.pid if identity else None,
        create_time=identity.create_time if identity else None,
        started_at=first.started_at if first else None,
        restarts=sum(i.restarts for i in component.instances),
        status=component.status,
        last_exit_code=latest.last_exit_code if latest else None,
        last_exit_at=latest.last_exit_at if latest else None,
    )


def forget(store: Store, name: str, index: int) -> None:
    """Drop an instance's row (scaled down: that copy no longer exists)."""
    components.forget_instance(store, name, index)


def forget_components(store: Store, keep: list[str]) -> None:
    """Drop the summary rows of components no longer configured."""
    components.forget_components(store, keep)


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
    for row in components.load_instances(store):
        identity = None
        if row.pid is not None and row.start_ticks is not None and row.argv is not None:
            identity = Identity(
                pid=row.pid,
                start_ticks=row.start_ticks,
                boot_id=row.boot_id,
                create_time=row.create_time,
                argv=row.argv,
            )
        found.append(
            StoredInstance(
                name=row.name,
                index=row.index,
                identity=identity,
                started_at=row.started_at,
                restarts=row.restarts,
            )
        )
    return found

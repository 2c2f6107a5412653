"""What the supervisor knows of each component and each of its running copies."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import ComponentSettings
from bot.engine.supervisor.processes import Identity, ProcessHandle
from bot.engine.supervisor.restarts import ExitWindow

# Instance statuses, from worst to best: the component shows its worst instance's.
STATUS_ORDER = (
    "failed",
    "crash-loop",
    "exited",
    "backoff",
    "unready",
    "starting",
    "stopped",
    "running",
)


@dataclass(kw_only=True, eq=False)
class Instance:
    """One running copy of a component (``instances = N`` makes N of these)."""

    name: str
    index: int
    label: str  # "api" for a single copy, "api-2" for the third of several
    log_path: Path
    handle: ProcessHandle | None = None
    identity: Identity | None = None
    status: str = "stopped"
    started_at: float | None = None
    restarts: int = 0
    last_exit_code: int | None = None
    last_exit_at: float | None = None
    delay: float | None = None  # the last wait before a restart; None: no quick exit yet
    stopping: bool = False  # selfreg is stopping it on purpose: its exit is not a failure
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    ready_task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        handle = self.handle
        return handle.pid if handle is not None and handle.running() else None

    def as_dict(self, now: float) -> dict[str, Any]:
        up = self.status in ("running", "starting", "unready") and self.started_at is not None
        return {
            "instance": self.index,
            "status": self.status,
            "pid": self.pid,
            "started_at": self.started_at,
            "uptime": now - self.started_at if up and self.started_at is not None else None,
            "restarts": self.restarts,
            "last_exit_code": self.last_exit_code,
            "log": str(self.log_path),
        }


@dataclass(kw_only=True, eq=False)
class ComponentState:
    """One ``[[components]]`` entry: its settings, its instances, its crash-loop window."""

    settings: ComponentSettings
    exits: ExitWindow
    instances: list[Instance] = field(default_factory=list)
    crash_looped: bool = False
    held: bool = False  # stopped on purpose (stop, keep stopped): no automatic restarts
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)  # one control at a time

    @classmethod
    def of(cls, settings: ComponentSettings) -> ComponentState:
        """A component not started yet, with a crash-loop window of its settings."""
        return cls(
            settings=settings,
            exits=ExitWindow(settings.crash_loop.exits, settings.crash_loop.window),
        )

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def status(self) -> str:
        if self.crash_looped:
            return "crash-loop"
        if not self.instances:
            return "stopped"
        return min((i.status for i in self.instances), key=_rank)

    def latest_exit(self) -> Instance | None:
        exited = [i for i in self.instances if i.last_exit_at is not None]
        return max(exited, key=lambda i: i.last_exit_at or 0.0, default=None)

    def snapshot(self, now: float) -> dict[str, Any]:
        """The component as ``/status`` shows it; top-level fields speak for the first copy."""
        first = self.instances[0] if self.instances else None
        latest = self.latest_exit()
        rows = [i.as_dict(now) for i in self.instances]
        return {
            "name": self.name,
            "status": self.status,
            "pid": first.pid if first else None,
            "started_at": first.started_at if first else None,
            "uptime": rows[0]["uptime"] if rows else None,
            "restarts": sum(i.restarts for i in self.instances),
            "last_exit_code": latest.last_exit_code if latest else None,
            "instances": rows,
        }


def _rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else 0

"""What selfreg reads of a Fly machine object, parsed once (pure; no I/O).

Field names follow the Machines API (NOTES.md 1.3). Unknown or missing fields are tolerated:
a machine whose host is unreachable may come without its ``config`` and with a partial one in
``incomplete_config``, which is read (group, release, size) but marked: ``complete`` is false,
and no action writes such a config back. The release version is
the image label ``fly.version`` ("v17"), else ``v`` + metadata ``fly_release_version``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TRANSIENT = frozenset(
    {
        "creating",
        "starting",
        "stopping",
        "restarting",
        "suspending",
        "destroying",
        "updating",
        "replacing",
    }
)
"""States a machine passes through; one that stays in them is wedged."""
FAILED = frozenset({"failed", "launch_failed"})
STOPPED = frozenset({"stopped", "suspended"})
GONE = frozenset({"destroyed", "replaced", "migrated"})
_MACHINE_ID = re.compile(r"^[0-9a-z]{6,32}$")


def machine_id_of(subject: str) -> str | None:
    """The machine id at the head of a check subject ``"<id> (<region>)"``; None if the
    subject names no machine (the app's own subject is ``""``)."""
    head = subject.split(" ", 1)[0]
    return head if _MACHINE_ID.match(head) else None


@dataclass(frozen=True, kw_only=True, slots=True)
class Exit:
    """The newest ``exit`` event of a machine."""

    code: int | None
    oom_killed: bool
    requested: bool
    at: float
    restart_count: int


@dataclass(frozen=True, kw_only=True, slots=True)
class HealthCheck:
    name: str
    status: str
    output: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Machine:
    """The facts the check and the actions use."""

    id: str
    state: str
    region: str
    instance_id: str
    process_group: str
    version: str
    image: str
    host_status: str
    memory_mb: int
    cpus: int
    cpu_kind: str
    updated_at: float
    checks: tuple[HealthCheck, ...] = ()
    last_exit: Exit | None = None
    oom_kills: int = 0
    has_mounts: bool = False
    config: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True
    """False when Fly sent no full ``config`` (its host unreachable): not one to write back."""

    @property
    def subject(self) -> str:
        return f"{self.id} ({self.region})"

    @property
    def release(self) -> int:
        """The version as a number (``v17`` -> 17), 0 when unknown: for sorting."""
        return release_number(self.version)


def release_number(version: str) -> int:
    """A release version as a number (``v17`` -> 17); 0 when it is not one."""
    digits = version.lstrip("v")
    return int(digits) if digits.isdigit() else 0


def epoch(value: Any) -> float:
    """A Fly time as epoch seconds: RFC 3339 text, or (older docs) ms since the epoch."""
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 1e11 else float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0
    return 0.0


def _version(raw: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    labels = (raw.get("image_ref") or {}).get("labels") or {}
    if isinstance(labels, Mapping) and labels.get("fly.version"):
        return str(labels["fly.version"])
    release = (config.get("metadata") or {}).get("fly_release_version")
    return f"v{release}" if release else ""


def _last_exit(events: Sequence[Mapping[str, Any]]) -> tuple[Exit | None, int]:
    """The newest exit event (events come newest first) and how many exits were OOM kills."""
    exits = [e for e in events if e.get("type") == "exit"]
    ooms = sum(
        1 for e in exits if ((e.get("request") or {}).get("exit_event") or {}).get("oom_killed")
    )
    if not exits:
        return None, ooms
    newest = max(exits, key=lambda e: epoch(e.get("timestamp")))
    request = newest.get("request") or {}
    event = request.get("exit_event") or {}
    code = event.get("exit_code")
    return (
        Exit(
            code=int(code) if isinstance(code, int) else None,
            oom_killed=bool(event.get("oom_killed")),
            requested=bool(event.get("requested_stop")),
            at=epoch(event.get("exited_at")) or epoch(newest.get("timestamp")),
            restart_count=int(request.get("restart_count") or 0),
        ),
        ooms,
    )


def _checks(raw: Mapping[str, Any]) -> tuple[HealthCheck, ...]:
    """Fly health checks, without the fake ``bg_deployments_compat*`` ones the API injects."""
    found = []
    for entry in raw.get("checks") or []:
        name = str(entry.get("name", ""))
        if name.startswith("bg_deployments_compat"):
            continue
        found.append(
            HealthCheck(
                name=name, status=str(entry.get("status", "")), output=str(entry.get("output", ""))
            )
        )
    return tuple(found)


def parse(raw: Mapping[str, Any]) -> Machine:
    """A machine object of the API as a ``Machine``."""
    config = raw.get("config") or raw.get("incomplete_config") or {}
    guest = config.get("guest") or {}
    events = [e for e in raw.get("events") or [] if isinstance(e, Mapping)]
    last_exit, ooms = _last_exit(events)
    return Machine(
        id=str(raw.get("id", "")),
        state=str(raw.get("state", "")),
        region=str(raw.get("region", "")),
        instance_id=str(raw.get("instance_id", "")),
        process_group=str((config.get("metadata") or {}).get("fly_process_group", "")),
        version=_version(raw, config),
        image=str(config.get("image", "")),
        host_status=str(raw.get("host_status") or "ok"),
        memory_mb=int(guest.get("memory_mb") or 0),
        cpus=int(guest.get("cpus") or 0),
        cpu_kind=str(guest.get("cpu_kind", "")),
        updated_at=max(
            [epoch(raw.get("updated_at")), *(epoch(e.get("timestamp")) for e in events)]
        ),
        checks=_checks(raw),
        last_exit=last_exit,
        oom_kills=ooms,
        has_mounts=bool(config.get("mounts")),
        config=config,
        complete=bool(raw.get("config")),
    )

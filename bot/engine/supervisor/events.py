"""Event kinds the supervisor records beyond ``EventKind``'s started / exited / stopped."""

from __future__ import annotations

from enum import StrEnum


class SupervisorEvent(StrEnum):
    """Event kinds of the supervisor beyond ``EventKind``'s started / exited / stopped."""

    ADOPTED = "component.adopted"
    BECAME_READY = "component.became_ready"
    READY_TIMED_OUT = "component.ready_timed_out"
    START_FAILED = "component.start_failed"
    CRASH_LOOPED = "component.crash_looped"
    KEPT_STOPPED = "component.kept_stopped"
    SCALED = "component.scaled"

"""The engine's records: the latest state of a check's subject, and a transition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from checks.base import Status


class Severity(StrEnum):
    """How loud an alert is (DESIGN.md, "Words for state")."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class EventKind(StrEnum):
    """Every kind of event row; named in the past tense."""

    STARTED = "selfreg.started"
    STOPPED = "selfreg.stopped"
    CHECK_SKIPPED = "check.skipped"
    TRANSITION_RECORDED = "transition.recorded"
    DELIVERY_FAILED = "outbox.delivery_failed"
    COMPONENT_STARTED = "component.started"
    COMPONENT_EXITED = "component.exited"
    COMPONENT_STOPPED = "component.stopped"
    JOB_FAILED = "job.failed"
    PRUNED = "store.pruned"


@dataclass(frozen=True, kw_only=True, slots=True)
class LatestState:
    """What selfreg last saw of one (check, subject), and what it last announced.

    ``status`` is the latest observation's; ``confirmed`` is the status last announced by a
    transition (it moves only after ``open_after`` / ``recover_after`` runs); ``streak`` counts
    consecutive runs on the same side of ok / failing.
    """

    check: str
    subject: str
    status: Status
    summary: str
    values: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None
    at: float
    confirmed: Status
    confirmed_at: float
    streak: int = 1
    duration: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Transition:
    """A confirmed change of a (check, subject)'s status: what alerts are made of."""

    fingerprint: str
    check: str
    subject: str
    kind: str = "rule"
    previous: Status
    current: Status
    severity: Severity
    summary: str
    values: Mapping[str, float] = field(default_factory=dict)
    at: float

    @property
    def is_recovery(self) -> bool:
        return self.current is Status.OK

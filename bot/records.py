"""The records both sides share: what the engine decides and the store keeps.

One module, imported by the engine, the store, Slack, the notifiers and the CLI alike, so no
layer has to import another layer to name a record. Records only: no I/O, no clock, no logic
beyond a property that reads the record itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from actions.base import Mode, Risk
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
    DEPLOYED = "release.deployed"


class IncidentKind(StrEnum):
    """What raised an incident: a rule on a check, a predictor, or the supervisor."""

    RULE = "rule"
    ANOMALY = "anomaly"
    RISK = "risk"
    FORECAST = "forecast"
    CRASH_LOOP = "crash-loop"
    REGULATION = "regulation"
    """A scale rule or resource detector asking for a move (``bot/engine/regulate``)."""

    @property
    def predicted(self) -> bool:
        """Raised by a predictor (warning only, its own fingerprint, feedback buttons)."""
        return self in PREDICTED

    @property
    def refreshed_quietly(self) -> bool:
        """A repeat refreshes the open incident's text and counters without worsening it."""
        return self in PREDICTED or self is IncidentKind.REGULATION


PREDICTED = frozenset({IncidentKind.ANOMALY, IncidentKind.RISK, IncidentKind.FORECAST})


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
    kind: IncidentKind = IncidentKind.RULE
    previous: Status
    current: Status
    severity: Severity
    summary: str
    values: Mapping[str, float] = field(default_factory=dict)
    at: float

    @property
    def is_recovery(self) -> bool:
        return self.current is Status.OK


SEVERITY_ORDER = [Severity.INFO, Severity.WARNING, Severity.ERROR, Severity.CRITICAL]


class IncidentState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SILENCED = "silenced"
    FLAPPING = "flapping"
    RESOLVED = "resolved"


class NoticeKind(StrEnum):
    """What happened to an incident, in the past tense."""

    OPENED = "opened"
    REOPENED = "reopened"
    WORSENED = "worsened"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    SILENCED = "silenced"
    UNSILENCED = "unsilenced"
    FLAPPING = "flapping"
    REMINDED = "reminded"
    RESOLVED = "resolved"
    ACTED = "acted"


LOUD = frozenset(
    {
        NoticeKind.OPENED,
        NoticeKind.REOPENED,
        NoticeKind.ESCALATED,
        NoticeKind.FLAPPING,
        NoticeKind.RESOLVED,
    }
)
"""Notices that go to every channel (email, webhook, log); the rest stay in the Slack thread."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Incident:
    """One incident: its state, counters, and where its Slack message lives."""

    id: int = 0
    fingerprint: str
    check: str
    subject: str
    kind: IncidentKind = IncidentKind.RULE
    severity: Severity
    state: IncidentState = IncidentState.OPEN
    status: Status
    summary: str
    values: Mapping[str, float] = field(default_factory=dict)
    opened_at: float
    last_seen_at: float
    resolved_at: float | None = None
    count: int = 1
    acked_by: str | None = None
    acked_at: float | None = None
    silence_id: int | None = None
    escalation_step: int = 0
    reminded_at: float | None = None
    changes: tuple[float, ...] = ()
    runbook_url: str | None = None
    digest_id: int | None = None
    slack_channel: str | None = None
    slack_ts: str | None = None
    synced_at: float | None = None
    reopened_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self.state is not IncidentState.RESOLVED

    @property
    def failing_since(self) -> float:
        """When this bout of failure began: the last reopening, else the opening. Escalation
        steps and "resolved after" count from here, so a reopened incident pages afresh."""
        return self.reopened_at if self.reopened_at is not None else self.opened_at


@dataclass(frozen=True, kw_only=True, slots=True)
class Notice:
    """Something to tell people about an incident (a thread reply, a line, an email)."""

    kind: NoticeKind
    text: str
    mentions: tuple[str, ...] = ()
    crosspost: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Silence:
    """A stored silence."""

    id: int
    matcher: Mapping[str, Any] = field(default_factory=dict)
    starts_at: float
    ends_at: float | None
    until_resolved: bool = False
    reason: str = ""
    author: str
    created_at: float

    def active(self, now: float) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


class ProposalState(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    VERIFIED = "verified"
    NOT_EFFECTIVE = "not_effective"


@dataclass(frozen=True, kw_only=True, slots=True)
class Proposal:
    """One proposed remediation: which action, for which incident, and where it stands."""

    id: int = 0
    incident_id: int | None
    action: str
    state: ProposalState = ProposalState.PROPOSED
    mode: Mode
    risk: Risk
    requested_by: str
    created_at: float
    expires_at: float
    approvals: tuple[str, ...] = ()
    decided_by: str | None = None
    decided_at: float | None = None
    reason: str = ""
    run_id: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    """The gate's answer: allowed or not, the reason, and whether the run starts now."""

    allowed: bool
    reason: str
    runs: bool = False


@dataclass(frozen=True, slots=True)
class Door:
    """Where a person's request came in, recorded with it in the audit trail: ``slack``,
    ``cli`` (with the local user who typed it, mapped by ``[cli] users`` to the actor), ``api``
    (with the token's identity, mapped by ``[[api.tokens]]`` to the actor), ``selfreg``
    itself (auto mode), ``regulate`` (regulation's own moves and detections), or ``schedule``
    (the planner running a proposal approved for a quiet window; ``via`` names the door it was
    scheduled through)."""

    name: str
    local_user: str = ""
    identity: str = ""  # the API token's identity name (``[[api.tokens]]`` name)
    via: str = ""  # for ``schedule``: the door the person scheduled it through

    def detail(self) -> dict[str, str]:
        """The audit detail's part about the door."""
        found = {"door": self.name}
        if self.local_user:
            found["local_user"] = self.local_user
        if self.identity:
            found["identity"] = self.identity
        if self.via:
            found["via"] = self.via
        return found


SLACK_DOOR = Door("slack")
SELFREG_DOOR = Door("selfreg")
REGULATE_DOOR = Door("regulate")  # regulation's own moves and detections


@dataclass(frozen=True, kw_only=True, slots=True)
class Offer:
    """A remediation shown on an incident message: its line, and whether it has buttons."""

    proposal_id: int
    label: str
    line: str
    buttons: bool = False
    confirm: bool = False
    closing_note: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class BackupPlace:
    """What backing up or restoring one selfreg needs: its files and its ``[backup]`` section.

    Plain values, folders already resolved under the data folder (an absolute one stays as
    it is): the store's backup and restore take this, never the config, so the store imports
    nothing of how a config is read (``LoadedConfig.backup_place`` makes it).
    """

    db_path: Path
    data_dir: Path
    control_socket: Path
    config_files: tuple[Path, ...]
    folder: Path
    """``[backup] folder``: where archives are written."""
    keep: int
    """``[backup] keep``: archives kept in the folder and in ``copy_to``."""
    copy_to: Path | None
    """``[backup] copy_to``: where each new archive is copied too; None: nowhere."""
    on_start: bool
    """``[backup] on_start``: back up the store before every start."""

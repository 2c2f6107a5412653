"""The incident life cycle as pure functions: records in, new records and notices out.

An incident is what people are told about: one per fingerprint at a time, one Slack message
for its whole life. Every function here takes ``now`` and reads no clock, so tests drive
escalation, flapping, cooldowns and reminders with a fake clock instead of waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot import messages
from bot.config.alerts import AlertsSettings, EscalationStep
from bot.records import (
    SEVERITY_ORDER,
    Incident,
    IncidentState,
    Notice,
    NoticeKind,
    Severity,
    Transition,
)
from checks.base import Observation, Status


def _severity_at_least(current: Severity, floor: Severity | str | None) -> Severity:
    if floor is None:
        return current
    floor = Severity(floor)
    return max(current, floor, key=SEVERITY_ORDER.index)


def _recent(changes: Sequence[float], now: float, window: float) -> tuple[float, ...]:
    return tuple(t for t in changes if now - t <= window)


def _flapping(
    incident: Incident, now: float, policy: AlertsSettings
) -> tuple[Incident, list[Notice]]:
    """Mark an incident flapping when its recent changes reach the policy's count."""
    changes = _recent(incident.changes, now, policy.flapping.window)
    incident = replace(incident, changes=changes)
    if incident.state is IncidentState.FLAPPING or len(changes) < policy.flapping.changes:
        return incident, []
    notice = Notice(
        kind=NoticeKind.FLAPPING,
        text=messages.flapping(len(changes), policy.flapping.window),
    )
    return replace(incident, state=IncidentState.FLAPPING), [notice]


def open_incident(
    transition: Transition,
    now: float,
    policy: AlertsSettings,
    previous: Incident | None,
    runbook_url: str | None = None,
    silence_id: int | None = None,
) -> tuple[Incident, list[Notice]]:
    """A failing transition with no open incident: reopen the last one within the cooldown,
    else open a new one."""
    state = IncidentState.SILENCED if silence_id is not None else IncidentState.OPEN
    if (
        previous is not None
        and previous.resolved_at is not None
        and now - previous.resolved_at <= policy.cooldown
    ):
        return _reopen(previous, transition, now, policy, state, silence_id)
    incident = Incident(
        fingerprint=transition.fingerprint,
        check=transition.check,
        subject=transition.subject,
        kind=transition.kind,
        severity=transition.severity,
        state=state,
        status=transition.current,
        summary=transition.summary,
        values=transition.values,
        opened_at=now,
        last_seen_at=now,
        silence_id=silence_id,
        changes=(now,),
        runbook_url=runbook_url,
    )
    return incident, [Notice(kind=NoticeKind.OPENED, text=messages.opened(transition.summary))]


def _reopen(
    previous: Incident,
    transition: Transition,
    now: float,
    policy: AlertsSettings,
    state: IncidentState,
    silence_id: int | None,
) -> tuple[Incident, list[Notice]]:
    """The last incident of the fingerprint, resolved within the cooldown, comes back."""
    incident = replace(
        previous,
        state=state,
        status=transition.current,
        severity=transition.severity,
        summary=transition.summary,
        values=transition.values,
        last_seen_at=now,
        resolved_at=None,
        count=previous.count + 1,
        acked_by=None,
        acked_at=None,
        silence_id=silence_id,
        escalation_step=0,
        reminded_at=None,
        changes=(*previous.changes, now),
        reopened_at=now,
    )
    incident, flapping = _flapping(incident, now, policy)
    notice = Notice(kind=NoticeKind.REOPENED, text=messages.reopened(transition.summary))
    return incident, [notice, *flapping]


def worsen(incident: Incident, transition: Transition, now: float) -> tuple[Incident, list[Notice]]:
    """A change between failing statuses (warning -> critical, or back) on an open incident."""
    severity = _severity_at_least(transition.severity, None)
    updated = replace(
        incident,
        status=transition.current,
        severity=severity,
        summary=transition.summary,
        values=transition.values,
        last_seen_at=now,
        count=incident.count + 1,
    )
    return updated, [
        Notice(
            kind=NoticeKind.WORSENED,
            text=messages.status_changed(
                transition.previous, transition.current, transition.summary
            ),
        )
    ]


def repeat(incident: Incident, observation: Observation) -> Incident:
    """Another failing run of an open incident: counters and detail move, nobody is told."""
    return replace(
        incident,
        summary=observation.summary,
        values=observation.values,
        last_seen_at=observation.at,
        count=incident.count + 1,
    )


def resolve(
    incident: Incident, transition: Transition, now: float, policy: AlertsSettings
) -> tuple[Incident, list[Notice]]:
    """A recovery: the incident resolves, unless it is flapping (then it only counts)."""
    changes = (*incident.changes, now)
    if incident.state is IncidentState.FLAPPING:
        return replace(
            incident,
            changes=_recent(changes, now, policy.flapping.window),
            status=Status.OK,
            last_seen_at=now,
        ), []
    resolved = replace(
        incident,
        state=IncidentState.RESOLVED,
        status=Status.OK,
        summary=transition.summary,
        values=transition.values,
        resolved_at=now,
        last_seen_at=now,
        changes=changes,
    )
    return resolved, [
        Notice(
            kind=NoticeKind.RESOLVED,
            text=messages.resolved(now - incident.failing_since, transition.summary),
        )
    ]


def settle_flapping(
    incident: Incident, now: float, policy: AlertsSettings
) -> tuple[Incident, list[Notice]]:
    """A flapping incident that has been quiet for the window settles: resolved if ok, else open."""
    if incident.state is not IncidentState.FLAPPING:
        return incident, []
    if _recent(incident.changes, now, policy.flapping.window):
        return incident, []
    if incident.status is Status.OK:
        settled = replace(incident, state=IncidentState.RESOLVED, resolved_at=now, changes=())
        return settled, [
            Notice(
                kind=NoticeKind.RESOLVED,
                text=messages.resolved(now - incident.failing_since, messages.STABLE_AGAIN),
            )
        ]
    return replace(incident, state=IncidentState.OPEN, changes=()), []


def acknowledge(incident: Incident, actor: str, now: float) -> tuple[Incident, list[Notice]]:
    """Someone owns it: escalation stops; a reminder follows after the ack timeout."""
    updated = replace(
        incident, state=IncidentState.ACKNOWLEDGED, acked_by=actor, acked_at=now, reminded_at=None
    )
    return updated, [Notice(kind=NoticeKind.ACKNOWLEDGED, text=messages.acknowledged(actor))]


def silence(incident: Incident, silence_id: int, text: str) -> tuple[Incident, list[Notice]]:
    updated = replace(incident, state=IncidentState.SILENCED, silence_id=silence_id)
    return updated, [Notice(kind=NoticeKind.SILENCED, text=text)]


def unsilence(incident: Incident, text: str) -> tuple[Incident, list[Notice]]:
    state = IncidentState.ACKNOWLEDGED if incident.acked_by else IncidentState.OPEN
    updated = replace(incident, state=state, silence_id=None)
    return updated, [Notice(kind=NoticeKind.UNSILENCED, text=text)]


def escalate(
    incident: Incident, steps: Sequence[EscalationStep], now: float
) -> tuple[Incident, list[Notice]]:
    """Take every escalation step whose time has come (open, unacknowledged incidents only)."""
    if incident.state is not IncidentState.OPEN:
        return incident, []
    notices = []
    while (
        incident.escalation_step < len(steps)
        and now - incident.failing_since >= steps[incident.escalation_step].after
    ):
        step = steps[incident.escalation_step]
        incident = replace(
            incident,
            escalation_step=incident.escalation_step + 1,
            severity=_severity_at_least(incident.severity, step.severity),
        )
        notices.append(
            Notice(
                kind=NoticeKind.ESCALATED,
                text=messages.escalated(
                    incident.escalation_step, len(steps), now - incident.failing_since
                ),
                mentions=tuple(step.mention),
                crosspost=step.channel,
            )
        )
    return incident, notices


def escalate_next(
    incident: Incident, steps: Sequence[EscalationStep], now: float, why: str
) -> tuple[Incident, list[Notice]]:
    """Take the next escalation step now (a remediation was not effective)."""
    if incident.escalation_step >= len(steps) or not incident.is_open:
        return incident, []
    step = steps[incident.escalation_step]
    incident = replace(
        incident,
        escalation_step=incident.escalation_step + 1,
        severity=_severity_at_least(incident.severity, step.severity),
    )
    return incident, [
        Notice(
            kind=NoticeKind.ESCALATED,
            text=f"{why} "
            + messages.escalated_early(
                incident.escalation_step, len(steps), now - incident.failing_since
            ),
            mentions=tuple(step.mention),
            crosspost=step.channel,
        )
    ]


def remind(incident: Incident, now: float, policy: AlertsSettings) -> tuple[Incident, list[Notice]]:
    """Reminders: every ``renotify_every`` while open, after ``ack_timeout`` while acknowledged."""
    if incident.state is IncidentState.OPEN and policy.renotify_every:
        since = incident.reminded_at or incident.failing_since
        if now - since >= policy.renotify_every:
            failing_for = now - incident.failing_since
            return replace(incident, reminded_at=now), [
                Notice(kind=NoticeKind.REMINDED, text=messages.still_open(failing_for))
            ]
    if incident.state is IncidentState.ACKNOWLEDGED and incident.acked_at is not None:
        since = incident.reminded_at or incident.acked_at
        if now - since >= policy.ack_timeout:
            mention = (incident.acked_by,) if incident.acked_by else ()
            return replace(incident, reminded_at=now), [
                Notice(
                    kind=NoticeKind.REMINDED,
                    text=messages.ack_reminder(now - (incident.acked_at or now)),
                    mentions=mention,
                )
            ]
    return incident, []

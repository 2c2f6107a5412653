"""Step 4 of the flow, first half: turn an observation into a transition, or not (pure).

Alerts come from transitions, never from every run: a failing status is announced after
``open_after`` consecutive failing runs, a recovery after ``recover_after`` ok runs, and a
change between failing statuses (warning -> critical) at once.
"""

from __future__ import annotations

from dataclasses import replace

from bot.records import IncidentKind, LatestState, Severity, Transition
from checks.base import CheckSpec, Observation, Status

_DEFAULT_SEVERITY = {
    Status.WARNING: Severity.WARNING,
    Status.CRITICAL: Severity.CRITICAL,
    Status.UNKNOWN: Severity.ERROR,
}


def fingerprint(
    check: str, subject: str, kind: IncidentKind = IncidentKind.RULE, metric: str = ""
) -> str:
    """The identity of what an incident is about: check, subject and kind (and, for a
    prediction, the metric it watches: one incident per (check, subject, kind, metric),
    never the rule's)."""
    kind = IncidentKind(kind)
    what = f"{kind.value}:{metric}" if metric else kind.value
    return f"{check}|{subject}|{what}"


def severity_of(spec: CheckSpec, status: Status) -> Severity:
    """The configured severity, else the one the status implies."""
    if spec.severity is not None:
        return Severity(spec.severity)
    return _DEFAULT_SEVERITY.get(status, Severity.INFO)


def consider(
    previous: LatestState | None,
    observation: Observation,
    spec: CheckSpec,
    duration: float | None = None,
) -> tuple[LatestState, Transition | None]:
    """The new latest state of the observation's subject, and the transition it makes, if any."""
    failing = observation.status is not Status.OK
    if previous is None:
        streak = 1
        confirmed, confirmed_at = Status.OK, observation.at
    else:
        same_side = (previous.status is not Status.OK) == failing
        streak = previous.streak + 1 if same_side else 1
        confirmed, confirmed_at = previous.confirmed, previous.confirmed_at
    state = LatestState(
        check=observation.check,
        subject=observation.subject,
        status=observation.status,
        summary=observation.summary,
        values=observation.values,
        error=observation.error,
        at=observation.at,
        confirmed=confirmed,
        confirmed_at=confirmed_at,
        streak=streak,
        duration=duration,
    )
    if observation.status is confirmed:
        return state, None
    needed = (spec.open_after if confirmed is Status.OK else 1) if failing else spec.recover_after
    if streak < needed:
        return state, None
    severity = severity_of(spec, confirmed if not failing else observation.status)
    if failing and observation.severity is not None:
        severity = Severity(observation.severity)
    transition = Transition(
        fingerprint=fingerprint(observation.check, observation.subject),
        check=observation.check,
        subject=observation.subject,
        previous=confirmed,
        current=observation.status,
        severity=severity,
        summary=observation.summary,
        values=observation.values,
        at=observation.at,
    )
    return replace(state, confirmed=observation.status, confirmed_at=observation.at), transition

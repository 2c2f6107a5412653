"""Step 4 of the flow, second half: transitions become incidents, incidents become messages.

``Alerting`` applies the pure life-cycle functions of ``bot.engine.incidents`` to stored
incidents and queues what people should hear in the outbox, in the same transaction as the
change. Slack gets one message per incident (a coalesced ``incident.sync`` row that renders
the incident as it is when delivered) plus thread replies; the other channels get one row
per loud notice, filtered by their minimum severity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from bot import messages
from bot.clock import Clock
from bot.config.alerts import AlertsSettings
from bot.engine import incidents as life
from bot.engine.alert_messages import SLACK, incident_snapshot, queue_messages
from bot.engine.deploys import deploy_before
from bot.engine.silencing import end_silences_for, materialise_maintenance, silence_for
from bot.engine.transitions import fingerprint as fingerprint_of
from bot.errors import IncidentClosed, IncidentNotFound, SilenceNotFound
from bot.records import (
    SLACK_DOOR,
    Door,
    Incident,
    IncidentKind,
    IncidentState,
    Notice,
    NoticeKind,
    Severity,
    Silence,
    Transition,
)
from bot.store import audit
from bot.store import incidents as rows
from bot.store.db import Store
from bot.tally import Tally
from checks.base import CheckSpec, Observation

__all__ = ["Alerting", "incident_snapshot"]

log = logging.getLogger(__name__)

COUNTED = {
    NoticeKind.OPENED: "incidents_opened",
    NoticeKind.REOPENED: "incidents_opened",
    NoticeKind.RESOLVED: "incidents_resolved",
}
"""The notices counted for /metrics (``selfreg_incidents_*_total`` by severity)."""


class Alerting:
    """Keeps incidents in step with transitions and time; queues their messages."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        policy: AlertsSettings,
        specs: Mapping[str, CheckSpec],
        channels: Mapping[str, Severity],
        *,
        on_queued: Callable[[], None] = lambda: None,
        on_opened: Callable[[Incident], None] | None = None,
        tally: Tally | None = None,
    ) -> None:
        self.store = store
        self.tally = tally or Tally()  # incidents opened and resolved, for /metrics
        self.clock = clock
        self.policy = policy
        self.specs = dict(specs)
        self.channels = dict(channels)
        self.on_queued = on_queued
        """Called after rows are queued (wakes the outbox worker)."""
        self.on_opened = on_opened
        """Called with each incident opened and not silenced (remediation proposes)."""

    # ---- the one entrance: every transition (rule, prediction, crash loop) ---------------
    def handle(self, transition: Transition) -> Incident | None:
        """Turn a transition into an incident change and queue its messages.

        Called inside the caller's transaction (the runner's, with the runs that caused it);
        opens one of its own otherwise. A recovery resolves the open incident; a failing
        transition updates the open incident, or opens one (reopening a rule or crash-loop
        incident resolved within the cooldown; every predicted episode is a new incident)."""
        with self.store.transaction():
            current = rows.latest_for(self.store, transition.fingerprint)
            if transition.is_recovery:
                return self._resolve(current, transition)
            if current is not None and current.is_open:
                return self._update(current, transition)
            return self._open_for(transition, None if transition.kind.predicted else current)

    def _resolve(self, current: Incident | None, transition: Transition) -> Incident | None:
        if current is None or not current.is_open:
            return None
        resolved = self._apply(*life.resolve(current, transition, transition.at, self.policy))
        end_silences_for(self.store, current, self.clock.now())
        return resolved

    def _update(self, current: Incident, transition: Transition) -> Incident:
        """A failing transition for an open incident: a prediction refreshes it quietly (text
        and counters, like a repeat), a flapping one records the change, else it worsens."""
        now = transition.at
        if transition.kind.refreshed_quietly:
            refreshed = replace(
                current,
                summary=transition.summary,
                values=dict(transition.values),
                last_seen_at=now,
                count=current.count + 1,
            )
            return self._apply(refreshed, [])
        if current.state is IncidentState.FLAPPING:
            changed = replace(
                current,
                changes=(*current.changes, now),
                status=transition.current,
                summary=transition.summary,
                last_seen_at=now,
            )
            return self._apply(changed, [])
        return self._apply(*life.worsen(current, transition, now))

    def repeat(self, observation: Observation) -> None:
        """A failing run that changed nothing: counters and detail move, Slack updates later."""
        fingerprint = fingerprint_of(observation.check, observation.subject)
        current = rows.latest_for(self.store, fingerprint)
        if current is None or not current.is_open:
            return
        self._apply(life.repeat(current, observation), [])

    # ---- the sweep job --------------------------------------------------------------------
    def sweep(self) -> None:
        """Escalations, reminders, flapping that settled, silences that began or ended."""
        now = self.clock.now()
        with self.store.transaction():
            materialise_maintenance(self.store, self.policy.maintenance, now)
            active = {s.id: s for s in rows.active_silences(self.store, now)}
            for incident in rows.open_incidents(self.store):
                self._sweep_one(incident, active, now)

    def _sweep_one(self, incident: Incident, active: Mapping[int, Silence], now: float) -> None:
        if incident.state is IncidentState.SILENCED:
            if incident.silence_id not in active:
                self._apply(*life.unsilence(incident, messages.silence_ended()))
            return
        silence = silence_for(
            self.store,
            incident.fingerprint,
            incident.check,
            incident.subject,
            incident.severity,
            now,
        )
        if silence is not None:
            self._apply(
                *life.silence(
                    incident,
                    silence.id,
                    messages.silenced(silence.author, silence.ends_at, silence.reason),
                )
            )
            return
        incident, settled = life.settle_flapping(incident, now, self.policy)
        incident, escalated = life.escalate(incident, self.policy.escalation, now)
        incident, reminded = life.remind(incident, now, self.policy)
        notices = [*settled, *escalated, *reminded]
        if notices:
            self._apply(incident, notices)

    # ---- people's requests (Slack, CLI) ---------------------------------------------------
    def acknowledge(self, incident_id: int, actor: str, door: Door = SLACK_DOOR) -> Incident:
        """``actor`` owns the incident: its escalation stops (audited with the ``door``)."""
        with self.store.transaction():
            incident = self._open_incident(incident_id)
            if incident.state is IncidentState.ACKNOWLEDGED:
                return incident
            self._audit(door, "incident.acknowledged", actor, f"incident:{incident_id}")
            return self._apply(*life.acknowledge(incident, actor, self.clock.now()))

    def silence_incident(
        self,
        incident_id: int,
        actor: str,
        duration: float | None,
        reason: str = "",
        door: Door = SLACK_DOOR,
    ) -> Silence:
        """Silence one incident for ``duration`` seconds, or until it resolves (None)."""
        with self.store.transaction():
            incident = self._open_incident(incident_id)
            now = self.clock.now()
            silence = rows.add_silence(
                self.store,
                {"fingerprint": incident.fingerprint},
                starts_at=now,
                ends_at=None if duration is None else now + duration,
                until_resolved=duration is None,
                reason=reason,
                author=actor,
                now=now,
            )
            self._audit(door, "silence.added", actor, f"silence:{silence.id}",
                        incident=incident_id, ends_at=silence.ends_at)  # fmt: skip
            self._apply(
                *life.silence(
                    incident, silence.id, messages.silenced(actor, silence.ends_at, reason)
                )
            )
            return silence

    def add_silence(
        self,
        matcher: Mapping[str, str],
        duration: float,
        reason: str,
        author: str,
        starts_at: float | None = None,
        door: Door = SLACK_DOOR,
    ) -> Silence:
        """A silence from now (or a later ``starts_at``: a maintenance window by command),
        audited with the ``door`` it came through."""
        with self.store.transaction():
            now = self.clock.now()
            start = now if starts_at is None else max(starts_at, now)
            silence = rows.add_silence(
                self.store,
                matcher,
                starts_at=start,
                ends_at=start + duration,
                until_resolved=False,
                reason=reason,
                author=author,
                now=now,
            )
            self._audit(door, "silence.added", author, f"silence:{silence.id}",
                        matcher=dict(matcher), ends_at=silence.ends_at)  # fmt: skip
        self.sweep()
        return silence

    def remove_silence(self, silence_id: int, actor: str, door: Door = SLACK_DOOR) -> None:
        with self.store.transaction():
            now = self.clock.now()
            if not rows.remove_silence(self.store, silence_id, actor, now):
                raise SilenceNotFound(silence_id)
            self._audit(door, "silence.removed", actor, f"silence:{silence_id}")
        self.sweep()

    def incident(self, incident_id: int) -> Incident | None:
        return rows.get_incident(self.store, incident_id)

    def reply(self, incident_id: int, text: str, mentions: Sequence[str] = ()) -> None:
        """A line in the incident's thread (and on the console), inside the caller's transaction."""
        incident = rows.get_incident(self.store, incident_id)
        if incident is not None:
            self._apply(
                incident, [Notice(kind=NoticeKind.ACTED, text=text, mentions=tuple(mentions))]
            )

    def close(self, incident_id: int, text: str) -> Incident:
        """Resolve an incident by a person's decision (crash loop answered), with a reply."""
        with self.store.transaction():
            incident = self._open_incident(incident_id)
            now = self.clock.now()
            closed = replace(
                incident, state=IncidentState.RESOLVED, resolved_at=now, last_seen_at=now
            )
            return self._apply(closed, [Notice(kind=NoticeKind.RESOLVED, text=text)])

    def escalate_now(self, incident_id: int) -> None:
        """Take the next escalation step at once (a remediation was not effective)."""
        incident = rows.get_incident(self.store, incident_id)
        if incident is not None and incident.is_open:
            self._apply(
                *life.escalate_next(
                    incident,
                    self.policy.escalation,
                    self.clock.now(),
                    messages.remediation_not_effective(),
                )
            )

    # ---- internals ------------------------------------------------------------------------
    def _open_for(self, transition: Transition, current: Incident | None) -> Incident:
        """Open an incident for ``transition`` (reopening ``current`` when the life cycle says
        so): silences and storm control apply, and the remediation hook hears of it."""
        now = transition.at
        spec = self.specs.get(transition.check)
        silence = silence_for(
            self.store,
            transition.fingerprint,
            transition.check,
            transition.subject,
            transition.severity,
            now,
        )
        incident, notices = life.open_incident(
            transition,
            now,
            self.policy,
            current,
            runbook_url=spec.runbook_url if spec else None,
            silence_id=silence.id if silence else None,
        )
        if incident.id == 0 and silence is None:
            incident = self._storm_control(incident, now)
        incident = self._apply(incident, self._after_deploy(incident, notices, now))
        if self.on_opened is not None and incident.state is not IncidentState.SILENCED:
            self.on_opened(incident)
        return incident

    def _after_deploy(
        self, incident: Incident, notices: Sequence[Notice], now: float
    ) -> list[Notice]:
        """A rule incident opening within a deploy's window says so in its opened notice
        (the Slack message shows the same line: ``bot.slack.delivery``)."""
        deploy = None
        if incident.kind is IncidentKind.RULE:
            deploy = deploy_before(self.store, incident.check, now)
        if deploy is None:
            return list(notices)
        note = deploy.note(now)
        opening = (NoticeKind.OPENED, NoticeKind.REOPENED)
        return [replace(n, text=f"{n.text} {note}") if n.kind in opening else n for n in notices]

    def _open_incident(self, incident_id: int) -> Incident:
        incident = rows.get_incident(self.store, incident_id)
        if incident is None:
            raise IncidentNotFound(incident_id)
        if not incident.is_open:
            raise IncidentClosed(incident_id)
        return incident

    def _storm_control(self, incident: Incident, now: float) -> Incident:
        """Past the storm threshold, new incidents go into one digest's thread."""
        if SLACK not in self.channels:
            return incident
        window = self.policy.storm.window
        if rows.opened_since(self.store, now - window) < self.policy.storm.incidents:
            return incident
        digest = rows.current_digest(self.store, now - window)
        if digest is None:
            digest = rows.create_digest(self.store, now)
        return replace(incident, digest_id=digest)

    def _audit(self, door: Door, kind: str, actor: str, subject: str, **detail: object) -> None:
        """A person's change as an audit row, with the door it came through (same transaction)."""
        audit.append(
            self.store, self.clock.now(), kind, actor, subject, {**detail, **door.detail()}
        )

    def _apply(self, incident: Incident, notices: Sequence[Notice]) -> Incident:
        """Save the incident and queue its messages, in the caller's transaction."""
        incident = rows.save_incident(self.store, incident)
        for notice in notices:
            if counted := COUNTED.get(notice.kind):
                self.tally.add(counted, severity=incident.severity.value)
        queued = queue_messages(
            self.store,
            self.channels,
            incident,
            notices,
            now=self.clock.now(),
            update_every=self.policy.update_every,
        )
        if queued:
            self.on_queued()
        return incident

    def reconfigure(self, *, specs: Mapping[str, CheckSpec], policy: AlertsSettings) -> None:
        """A live reload's checks and ``[alerts]`` policy (the channels need a restart)."""
        self.specs = dict(specs)
        self.policy = policy

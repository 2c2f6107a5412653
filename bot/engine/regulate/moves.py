"""How a wanted scale move becomes a decision: one regulation incident per excursion of the
signal (its thread hears every move), a proposal of the rule's action on it, a decision row
with the signal's values and an audit row (door ``regulate``). In auto mode, and when
``safety`` allows, selfreg approves the proposal itself through the one policy gate; otherwise
a person does. A move whose run failed or was not effective trips the circuit breaker: the
regulation pause is set and a person is asked. The detectors in mode ``auto`` use the same
``refusal``, ``approve_later`` and ``trip_if_failed``, so every automatic move passes one path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from actions.base import Action
from bot import messages
from bot.config.regulate import ScaleRule
from bot.engine.regulate.band import UP, Want
from bot.engine.regulate.part import Part
from bot.engine.regulate.safety import SafetyFacts, budget_of, refuse_auto
from bot.engine.transitions import fingerprint
from bot.records import (
    REGULATE_DOOR,
    SLACK_DOOR,
    Door,
    Incident,
    IncidentKind,
    ProposalState,
    Severity,
    Transition,
)
from bot.store import audit
from bot.store import proposals as store_proposals
from bot.store import regulation as store_regulation
from checks.base import Status

log = logging.getLogger(__name__)

DOOR = REGULATE_DOOR.detail()
FAILED = (ProposalState.FAILED, ProposalState.NOT_EFFECTIVE)


@dataclass(frozen=True, kw_only=True, slots=True)
class Signal:
    """A rule's signal at one sample: the evidence every decision keeps."""

    rule: ScaleRule
    value: float
    recent: tuple[float, ...]
    forecast_eta: float | None = None
    instances: int | None = None

    def evidence(self) -> dict[str, Any]:
        rule = self.rule
        return {
            "check": rule.check,
            "subject": rule.subject,
            "metric": rule.metric,
            "value": self.value,
            "recent": list(self.recent),
            "low": rule.low,
            "high": rule.high,
            "forecast_eta": self.forecast_eta,
            "instances": self.instances,
        }


class Mover(Part):
    """Turns wanted moves into proposals (and automatic approvals); keeps the breaker."""

    def component_of(self, action_name: str) -> str:
        """The component a scale_component action scales ("" for a Fly app)."""
        action: Action | None = self.remediation.actions.get(action_name)
        return str(getattr(action.spec, "component", "")) if action is not None else ""

    # ---- a move ----------------------------------------------------------------------------
    def move(self, signal: Signal, want: Want) -> bool:
        """Propose (and in auto mode approve) the move; False when one is still waiting for a
        person (no second proposal is stacked on it)."""
        rule = signal.rule
        name = rule.up if want.direction == UP else rule.down
        assert name is not None
        last = store_regulation.last_move(self.store, rule.name)
        if last is not None and self._waiting(last.proposal_id):
            return False
        refusal = self.refusal(rule.name, rule.budget) if rule.mode == "auto" else None
        auto = rule.mode == "auto" and refusal is None
        now = self.clock.now()
        evidence = {**signal.evidence(), "why": want.why, "lasted": want.lasted}
        with self.store.transaction():
            incident = self._incident(signal, want)
            proposal = self.remediation.propose_move(
                incident.id, name, {**DOOR, "rule": rule.name, "signal": evidence}
            )
            outcome = "moved" if auto else "proposed"
            decision = store_regulation.record(
                self.store,
                store_regulation.DecisionRow(
                    at=now,
                    rule=rule.name,
                    direction=want.direction,
                    action=name,
                    mode=rule.mode,
                    outcome=outcome,
                    reason=refusal or "",
                    signal=evidence,
                    proposal_id=proposal.id,
                    incident_id=incident.id,
                ),
            )
            detail = {**DOOR, "decision": decision, "action": name, "signal": evidence}
            audit.append(
                self.store, now, f"regulate.{outcome}", "selfreg", f"regulate:{rule.name}", detail
            )
            text = messages.regulation_move(
                name, rule.metric, signal.value, rule.low, rule.high, want.why, auto
            )
            self.alerting.reply(incident.id, text + (f" ({refusal})" if refusal else ""))
        if auto:
            self.approve_later(rule.name, proposal.id, decision)
        return True

    def approve_later(self, name: str, proposal_id: int, decision_id: int) -> None:
        """An automatic move of ``name`` (a rule, or a detector's finding): selfreg approves
        its proposal through the gate, in the background."""
        self.remediation.later(self._approve(name, proposal_id, decision_id))

    async def _approve(self, name: str, proposal_id: int, decision_id: int) -> None:
        """selfreg's own approval through the gate; a refusal is recorded and left to people."""
        decision = await self.remediation.approve(
            proposal_id, "selfreg", trusted=True, door=REGULATE_DOOR
        )
        if decision.allowed:
            return
        now = self.clock.now()
        with self.store.transaction():
            self.store_refusal(name, decision_id, decision.reason, now)

    def store_refusal(self, name: str, decision_id: int, reason: str, now: float) -> None:
        """The gate refused an automatic move: the decision reads refused, people decide."""
        store_regulation.set_outcome(self.store, decision_id, "refused", reason)
        audit.append(
            self.store,
            now,
            "regulate.refused",
            "selfreg",
            f"regulate:{name}",
            {**DOOR, "decision": decision_id, "reason": reason},
        )

    def _incident(self, signal: Signal, want: Want) -> Incident:
        rule = signal.rule
        summary = messages.regulation_summary(
            rule.name, rule.metric, signal.value, rule.low, rule.high, want.why, signal.forecast_eta
        )
        incident = self.alerting.handle(self._transition(signal, Status.WARNING, summary))
        assert incident is not None
        return incident

    def settled(self, signal: Signal) -> None:
        """Back inside the band for ``up_for`` after a move: the rule's incident resolves."""
        rule = signal.rule
        summary = messages.regulation_settled(rule.metric, signal.value, rule.low, rule.high)
        with self.store.transaction():
            self.alerting.handle(self._transition(signal, Status.OK, summary))

    def _transition(self, signal: Signal, status: Status, summary: str) -> Transition:
        """The rule's regulation incident: opened or refreshed (warning), resolved (ok)."""
        rule = signal.rule
        return Transition(
            fingerprint=fingerprint(rule.check, rule.subject, IncidentKind.REGULATION, rule.name),
            check=rule.check,
            subject=rule.subject,
            kind=IncidentKind.REGULATION,
            previous=Status.WARNING if status is Status.OK else Status.OK,
            current=status,
            severity=Severity.WARNING,
            summary=summary,
            values={rule.metric: signal.value},
            at=self.clock.now(),
        )

    # ---- safety ------------------------------------------------------------------------------
    def refusal(self, name: str, budget: str) -> str | None:
        """Why an automatic move of ``name`` (a rule, or a detector: ``leak`` counts every
        ``leak:…`` finding) must wait for a person now, or None when it may go ahead."""
        now = self.clock.now()
        budget_global, window_global = budget_of(self.settings.budget)
        budget_rule, window_rule = budget_of(budget)
        return refuse_auto(
            SafetyFacts(
                kill_switch_by=store_proposals.paused_by(self.store),
                paused=store_regulation.paused(self.store),
                moves_global=store_regulation.moves_since(self.store, now - window_global),
                budget_global=budget_global,
                moves_rule=store_regulation.moves_since(self.store, now - window_rule, name),
                budget_rule=budget_rule,
            )
        )

    def _waiting(self, proposal_id: int | None) -> bool:
        proposal = store_proposals.get(self.store, proposal_id or 0)
        return (
            proposal is not None
            and proposal.state
            in (
                ProposalState.PROPOSED,
                ProposalState.APPROVED,
                ProposalState.RUNNING,
                ProposalState.SUCCEEDED,  # verification still to come
            )
            and proposal.expires_at > self.clock.now()
        )

    def check_breaker(self, name: str) -> None:
        """An automatic move of the rule ``name`` that failed or was not effective stops
        automatic regulation (every rule and detector) until a person resumes it."""
        last = store_regulation.last_move(self.store, name)
        if last is not None:
            self.trip_if_failed(last)

    def trip_if_failed(self, last: store_regulation.DecisionRow) -> None:
        """The circuit breaker, on one automatic move: its run failed or was not effective, so
        regulation is paused, the decision reads failed and its incident's thread asks a
        person (escalated at once)."""
        if last.outcome != "moved" or last.proposal_id is None:
            return
        proposal = store_proposals.get(self.store, last.proposal_id)
        if proposal is None or proposal.state not in FAILED:
            return
        now = self.clock.now()
        reason = messages.regulation_breaker(last.rule, last.action, proposal.state.value)
        with self.store.transaction():
            store_regulation.set_outcome(self.store, last.id, "failed", reason)
            store_regulation.set_paused(self.store, reason, "selfreg", now)
            audit.append(
                self.store,
                now,
                "regulate.breaker",
                "selfreg",
                f"regulate:{last.rule}",
                {**DOOR, "decision": last.id, "reason": reason},
            )
            if last.incident_id is not None:
                self.alerting.reply(last.incident_id, messages.regulation_breaker_ask(reason))
                self.alerting.escalate_now(last.incident_id)

    def pause(
        self, actor: str, paused: bool, incident_id: int | None = None, door: Door = SLACK_DOOR
    ) -> None:
        """The "Pause regulation" button (said in its incident's thread), ``selfreg plan
        pause|resume``: audited with the ``door`` it came through."""
        now = self.clock.now()
        with self.store.transaction():
            if incident_id is not None:
                self.alerting.reply(incident_id, messages.regulation_paused_by(paused, actor))
            store_regulation.set_paused(self.store, "on" if paused else None, actor, now)
            audit.append(
                self.store,
                now,
                "switch.regulation",
                actor,
                store_regulation.REGULATION_SWITCH,
                {**door.detail(), "paused": paused},
            )

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait for automatic approvals and the runs they started (tests, graceful stop)."""
        await self.remediation.wait_idle(timeout)  # the approvals, which may start runs
        await self.remediation.wait_idle(timeout)

"""What a person asks of the engine through a door other than a Slack click: the terminal
(``bot/control/people.py``) and the management API (``bot/web/api``).

One implementation for both doors, so they cannot drift apart: each request names the
approver it acts as (the door has mapped its caller already) and the ``Door`` it came
through; commands pass ``[slack] permissions`` (``allows``) first, decisions go to the one
policy gate (``Remediation.approve / deny``: approver list, two-person rule, budget), and
every change is an audit row holding the door. The same calls a Slack click makes:
``Alerting.acknowledge / add_silence / remove_silence``, ``Remediation.request / approve /
deny``, the supervisor's ``restart / stop_component / start_component``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import messages
from bot.engine.alerting import Alerting
from bot.engine.silences import silence_terms
from bot.engine.supervisor.restarts import crash_loop_fingerprint
from bot.errors import (
    BadCommand,
    IncidentNotFound,
    IncidentStillFailing,
    NotPermitted,
    UserError,
)
from bot.records import Decision, Door, Incident, IncidentKind, Proposal, Silence
from bot.store import audit
from bot.store.incidents import latest_for
from bot.store.state import load_latest
from checks.base import Status

if TYPE_CHECKING:
    from bot.engine.remediation import Remediation
    from bot.engine.supervisor import Supervisor

Allows = Callable[[str, str], Awaitable[bool]]
"""(command, approver id) -> may they run it (``[slack] permissions``, admins)."""

COMPONENT_VERBS = ("restart", "stop", "start")


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class Requests:
    """The engine parts people act on, and the permission rule for commands."""

    alerting: Alerting
    supervisor: Supervisor
    remediation: Remediation | None
    allows: Allows

    async def permit(self, command: str, actor: str) -> None:
        """Raise ``NotPermitted`` unless ``[slack] permissions`` lets ``actor`` run ``command``."""
        if not await self.allows(command, actor):
            raise NotPermitted(command, actor=actor)

    async def acknowledge(self, incident_id: int, actor: str, door: Door) -> Incident:
        await self.permit("ack", actor)
        return self.alerting.acknowledge(incident_id, actor, door)

    async def silence(self, terms: Mapping[str, Any], actor: str, door: Door) -> Silence:
        """A silence from the words ``matcher``, ``duration``, ``from`` and ``reason``, as
        ``/selfreg silence`` reads them; ``BadCommand`` when they do not read."""
        await self.permit("silence", actor)
        starts = terms.get("from")  # words, as typed: a list or a number is refused as such
        try:
            matcher, duration, starts_at = silence_terms(
                str(terms.get("matcher", "")),
                str(terms.get("duration", "")),
                None if starts is None else str(starts),
            )
        except ValueError as exc:
            raise BadCommand(str(exc)) from None
        reason = str(terms.get("reason") or "")
        return self.alerting.add_silence(matcher, duration, reason, actor, starts_at, door)

    async def silence_incident(
        self, incident_id: int, duration: float | None, reason: str, actor: str, door: Door
    ) -> Silence:
        """Silence one incident for ``duration`` seconds, or until it resolves (None)."""
        await self.permit("silence", actor)
        return self.alerting.silence_incident(incident_id, actor, duration, reason, door)

    async def unsilence(self, silence_id: int, actor: str, door: Door) -> None:
        await self.permit("unsilence", actor)
        self.alerting.remove_silence(silence_id, actor, door)

    async def resolve(self, incident_id: int, actor: str, door: Door) -> Incident:
        """Close an incident by hand (audited ``incident.resolved``). A rule incident whose
        check still fails is refused (``IncidentStillFailing``): closing it would hide the
        failure until the check recovers and fails again; ack or silence it instead."""
        await self.permit("resolve", actor)
        store = self.alerting.store
        with store.transaction():
            found = self.alerting.incident(incident_id)
            if found is not None and found.is_open and found.kind is IncidentKind.RULE:
                state = load_latest(store).get((found.check, found.subject))
                if state is not None and state.confirmed is not Status.OK:
                    raise IncidentStillFailing(incident_id)
            closed = self.alerting.close(incident_id, messages.resolved_by_hand(actor))
            audit.append(store, self.alerting.clock.now(), "incident.resolved", actor,
                         f"incident:{incident_id}", door.detail())  # fmt: skip
        return closed

    def _remediation(self) -> Remediation:
        if self.remediation is None:
            raise UserError(messages.control_no_actions())
        return self.remediation

    async def run(
        self, name: str, actor: str, incident: int | None, door: Door
    ) -> tuple[Proposal, Decision]:
        """A person's own proposal to run ``name``, approved by them if the gate allows; for
        an ``incident`` that does not exist, ``IncidentNotFound`` before any proposal."""
        await self.permit("run", actor)
        if incident is not None and self.alerting.incident(incident) is None:
            raise IncidentNotFound(incident)
        return await self._remediation().request(name, actor, incident, door=door)

    async def decide(
        self, verb: str, proposal_id: int, actor: str, reason: str, door: Door
    ) -> Decision:
        """``approve`` or ``deny`` a proposal through the one gate (no permission check:
        the action's approver list decides)."""
        remediation = self._remediation()
        if verb == "approve":
            return await remediation.approve(proposal_id, actor, door=door)
        if verb == "deny":
            return await remediation.deny(proposal_id, actor, reason, door=door)
        raise BadCommand(messages.unknown_decision(verb))

    async def control_component(self, name: str, verb: str, actor: str, door: Door) -> str:
        """Restart, stop or start a component (permission ``component``); audited
        ``component.<verb>`` with its outcome. Returns the outcome."""
        await self.permit("component", actor)
        controls = {
            "restart": self.supervisor.restart,
            "stop": self.supervisor.stop_component,
            "start": self.supervisor.start_component,
        }
        if verb not in controls:
            raise BadCommand(messages.unknown_decision(verb))
        outcome = await controls[verb](name)
        store = self.alerting.store
        with store.transaction():
            audit.append(store, self.alerting.clock.now(), f"component.{verb}", actor,
                         f"component:{name}", {"outcome": outcome, **door.detail()})  # fmt: skip
            looped = latest_for(store, crash_loop_fingerprint(name))
            if verb != "stop" and looped is not None and looped.is_open:
                # started by hand: the crash loop is answered, as Slack's "Restart anyway"
                self.alerting.close(looped.id, messages.restarted_anyway(actor, outcome))
        return outcome

"""Step 6: the one gate. ``decide`` says whether an actor may approve, deny or run a proposal,
and why not; the renderer asks it with ``dry_run=True`` whether to show a button at all.

Pure: every fact it needs (the proposal, the action's policy, the actor's groups, the runs in
the budget window, the kill switch) is passed in. The reason is shown verbatim to the person
who clicked, so it is written for them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from actions.base import EVERYONE, ActionSpec, Mode, Risk
from bot import messages
from bot.records import Decision, Proposal, ProposalState


@dataclass(frozen=True, kw_only=True, slots=True)
class Facts:
    """What the gate needs to know besides the proposal and the action."""

    now: float
    runs_in_window: int = 0
    last_run_at: float | None = None
    paused_by: str | None = None
    actor_groups: Collection[str] = field(default_factory=frozenset)
    trusted: bool = False
    """The actor needs no place on the approver list: selfreg itself (auto mode, low risk
    only) or a local user of the control socket, whose file permissions are the check."""
    incident_resolved: bool = False
    """The proposal's incident is resolved: its fix is no longer wanted."""


def is_approver(spec: ActionSpec, actor: str, groups: Collection[str], trusted: bool) -> bool:
    """Listed by id or through a user group, or the list says everyone (``"*"``); nobody when
    the list is empty."""
    if trusted or EVERYONE in spec.approvers:
        return True
    return actor in spec.approvers or any(g in groups for g in spec.approvers)


def budget_left(spec: ActionSpec, runs_in_window: int) -> int:
    return max(spec.budget_runs - runs_in_window, 0)


def decide(
    proposal: Proposal, spec: ActionSpec, actor: str, facts: Facts, *, dry_run: bool = False
) -> Decision:
    """May ``actor`` approve ``proposal`` now? (``dry_run``: only asking, e.g. to draw a button.)"""
    if proposal.state is not ProposalState.PROPOSED:
        return Decision(
            allowed=False,
            reason=messages.refusal_used(proposal.id, proposal.state.value, proposal.decided_by),
        )
    if facts.now >= proposal.expires_at:
        return Decision(
            allowed=False, reason=messages.refusal_expired(proposal.id, proposal.expires_at)
        )
    if facts.incident_resolved:
        return Decision(
            allowed=False,
            reason=messages.refusal_incident_resolved(proposal.id, proposal.incident_id or 0),
        )
    if facts.paused_by is not None:
        return Decision(allowed=False, reason=messages.refusal_paused(facts.paused_by))
    if proposal.mode is Mode.SHADOW:
        return Decision(allowed=False, reason=messages.refusal_mode(spec.name, proposal.mode.value))
    if not is_approver(spec, actor, facts.actor_groups, facts.trusted):
        return Decision(allowed=False, reason=messages.refusal_not_approver(spec.name))
    if facts.runs_in_window >= spec.budget_runs:
        return Decision(
            allowed=False, reason=messages.refusal_budget(spec.name, spec.budget_runs, spec.budget)
        )
    if facts.last_run_at is not None and facts.now - facts.last_run_at < spec.cooldown:
        return Decision(
            allowed=False,
            reason=messages.refusal_cooldown(spec.name, facts.last_run_at + spec.cooldown),
        )
    if proposal.risk is Risk.HIGH:
        if actor in proposal.approvals:
            return Decision(allowed=False, reason=messages.refusal_same_person(proposal.id))
        if actor == proposal.requested_by:
            return Decision(allowed=False, reason=messages.refusal_requester(proposal.id))
        if not proposal.approvals:
            return Decision(allowed=True, reason=messages.first_approval(actor), runs=False)
    return Decision(allowed=True, reason=messages.approved_by(actor), runs=True)


def may_deny(proposal: Proposal, spec: ActionSpec, actor: str, facts: Facts) -> Decision:
    """Denying needs the same standing as approving, on a proposal still open."""
    if proposal.state is not ProposalState.PROPOSED:
        return Decision(
            allowed=False, reason=messages.refusal_used(proposal.id, proposal.state.value)
        )
    if facts.now >= proposal.expires_at:
        return Decision(
            allowed=False, reason=messages.refusal_expired(proposal.id, proposal.expires_at)
        )
    if not is_approver(spec, actor, facts.actor_groups, facts.trusted):
        return Decision(allowed=False, reason=messages.refusal_not_approver(spec.name))
    return Decision(allowed=True, reason=messages.denied_by(actor))


def show_buttons(proposal: Proposal, spec: ActionSpec, facts: Facts) -> bool:
    """Whether the message offers Approve / Deny: someone on the list could approve it now."""
    if proposal.mode is not Mode.APPROVE or not spec.approvers:
        return False
    anyone = Facts(
        now=facts.now,
        runs_in_window=facts.runs_in_window,
        last_run_at=facts.last_run_at,
        paused_by=facts.paused_by,
        trusted=True,
    )
    return decide(proposal, spec, "", anyone, dry_run=True).allowed

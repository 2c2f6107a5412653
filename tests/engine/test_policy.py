"""The one gate: every refusal has its own reason, and the allowed paths say who approved."""

from __future__ import annotations

from dataclasses import replace

from actions.base import ActionSpec, Mode, Risk
from bot.engine.policy import Facts, decide, may_deny, show_buttons
from bot.records import Proposal, ProposalState

NOW = 1_800_000_000.0
SPEC = ActionSpec(
    name="restart-api",
    kind="restart_component",
    approvers=["U0ALICE", "S0ONCALL"],
    budget="3/1h",
    cooldown=60,
)


def proposal(**fields: object) -> Proposal:
    base = {
        "id": 7,
        "incident_id": 1,
        "action": "restart-api",
        "mode": Mode.APPROVE,
        "risk": Risk.MEDIUM,
        "requested_by": "selfreg",
        "created_at": NOW - 60,
        "expires_at": NOW + 3600,
    }
    base.update(fields)
    return Proposal(**base)


def facts(**fields: object) -> Facts:
    return Facts(**{"now": NOW, **fields})


def test_an_approver_is_allowed_and_the_run_starts() -> None:
    decision = decide(proposal(), SPEC, "U0ALICE", facts())
    assert decision.allowed and decision.runs
    assert decision.reason == "Approved by <@U0ALICE>, running."


def test_a_member_of_an_approver_group_is_allowed() -> None:
    assert decide(proposal(), SPEC, "U0BOB", facts(actor_groups={"S0ONCALL"})).allowed


def test_someone_not_on_the_list_is_refused() -> None:
    decision = decide(proposal(), SPEC, "U0MALLORY", facts())
    assert (
        not decision.allowed
        and decision.reason == "You are not an approver of restart-api; nothing changed."
    )


def test_an_empty_approver_list_means_nobody() -> None:
    nobody = SPEC.model_copy(update={"approvers": []})
    assert not decide(proposal(), nobody, "U0ALICE", facts()).allowed
    assert not show_buttons(proposal(), nobody, facts())


def test_a_star_on_the_list_lets_everyone_approve_but_the_rest_of_the_gate_holds() -> None:
    everyone = ActionSpec(name="restart-api", kind="restart_component", approvers=["*"])
    assert decide(proposal(), everyone, "U0MALLORY", facts()).allowed
    assert show_buttons(proposal(), everyone, facts())
    assert not decide(proposal(), everyone, "U0MALLORY", facts(runs_in_window=3)).allowed


def test_an_expired_proposal_is_refused() -> None:
    decision = decide(proposal(expires_at=NOW - 1), SPEC, "U0ALICE", facts())
    assert not decision.allowed and "expired at" in decision.reason


def test_a_used_proposal_is_refused_and_says_by_whom() -> None:
    used = proposal(state=ProposalState.RUNNING, decided_by="U0BOB")
    decision = decide(used, SPEC, "U0ALICE", facts())
    assert not decision.allowed
    assert decision.reason == "Proposal #7 is already running by <@U0BOB>; nothing changed."


def test_the_kill_switch_refuses_everything() -> None:
    decision = decide(proposal(), SPEC, "U0ALICE", facts(paused_by="U0ADMIN"))
    assert (
        not decision.allowed
        and "Actions are paused (kill switch, by <@U0ADMIN>)" in decision.reason
    )


def test_an_exhausted_budget_opens_the_circuit_breaker() -> None:
    decision = decide(proposal(), SPEC, "U0ALICE", facts(runs_in_window=3))
    assert not decision.allowed and "used its budget (3 runs per 1h)" in decision.reason


def test_a_cooldown_after_a_run_is_respected() -> None:
    decision = decide(proposal(), SPEC, "U0ALICE", facts(last_run_at=NOW - 30))
    assert not decision.allowed and "cooling down until" in decision.reason


def test_high_risk_needs_two_different_people() -> None:
    risky = proposal(risk=Risk.HIGH)
    first = decide(risky, SPEC, "U0ALICE", facts())
    assert first.allowed and not first.runs
    assert first.reason.startswith("First approval by <@U0ALICE> recorded")
    again = decide(replace(risky, approvals=("U0ALICE",)), SPEC, "U0ALICE", facts())
    assert not again.allowed and "a second, different person" in again.reason
    second = decide(
        replace(risky, approvals=("U0ALICE",)), SPEC, "U0BOB", facts(actor_groups={"S0ONCALL"})
    )
    assert second.allowed and second.runs


def test_the_requester_cannot_be_a_high_risk_approver() -> None:
    mine = proposal(risk=Risk.HIGH, requested_by="U0ALICE", approvals=("U0BOB",))
    decision = decide(mine, SPEC, "U0ALICE", facts())
    assert not decision.allowed and "needs two other people" in decision.reason


def test_shadow_mode_never_runs_from_a_click() -> None:
    decision = decide(proposal(mode=Mode.SHADOW), SPEC, "U0ALICE", facts())
    assert not decision.allowed and "shadow mode" in decision.reason


def test_denying_needs_the_same_standing_as_approving() -> None:
    assert not may_deny(proposal(), SPEC, "U0MALLORY", facts()).allowed
    assert may_deny(proposal(), SPEC, "U0ALICE", facts()).reason == "Denied by <@U0ALICE>."


def test_a_trusted_local_user_needs_no_place_on_the_list_but_still_the_budget() -> None:
    assert decide(proposal(), SPEC, "cli:root", facts(trusted=True)).allowed
    assert not decide(proposal(), SPEC, "cli:root", facts(trusted=True, runs_in_window=3)).allowed

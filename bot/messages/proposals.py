"""Remediation proposals: refusals, approvals, results and the offer line on an incident.

Read in Slack (thread replies, ephemeral refusals) and by ``selfreg approve`` / ``deny``.
"""

from __future__ import annotations

from bot.messages.common import clock_time, human_duration, mention_user


def refusal_used(proposal_id: int, state: str, by: str | None = None) -> str:
    """A click on a proposal decided already (``by`` whom, when that is known)."""
    who = f" by {mention_user(by)}" if by else ""
    return f"Proposal #{proposal_id} is already {state}{who}; nothing changed."


def refusal_expired(proposal_id: int, at: float) -> str:
    return f"Proposal #{proposal_id} expired at {clock_time(at)}; nothing changed. Ask for a new one with /selfreg run."


def refusal_incident_resolved(proposal_id: int, incident_id: int) -> str:
    return f"Incident #{incident_id} is resolved, so proposal #{proposal_id} is no longer wanted; nothing ran."


def refusal_paused(by: str) -> str:
    return f"Actions are paused (kill switch, by {mention_user(by)}); nothing runs until an admin says /selfreg actions resume."


def refusal_mode(action: str, mode: str) -> str:
    return f"{action} is in {mode} mode: it is not run from a button."


def refusal_not_approver(action: str) -> str:
    return f"You are not an approver of {action}; nothing changed."


def refusal_budget(action: str, runs: int, budget: str) -> str:
    return (
        f"{action} has used its budget ({runs} runs per {budget.split('/')[1]}); the circuit breaker "
        "hands this incident to people. Nothing ran."
    )


def refusal_cooldown(action: str, until: float) -> str:
    return f"{action} is cooling down until {clock_time(until)}; nothing ran."


def refusal_same_person(proposal_id: int) -> str:
    return (
        f"You already approved proposal #{proposal_id}: a second, different person must approve it."
    )


def refusal_requester(proposal_id: int) -> str:
    return f"You asked for proposal #{proposal_id}: a high-risk action needs two other people."


def refusal_unknown_proposal(value: str) -> str:
    return f"There is no proposal {value}; nothing changed."


def first_approval(actor: str) -> str:
    return f"First approval by {mention_user(actor)} recorded; high risk needs a second person."


def approved_by(actor: str) -> str:
    return f"Approved by {mention_user(actor)}, running."


def denied_by(actor: str) -> str:
    return f"Denied by {mention_user(actor)}."


def shadow_would_run(what: str) -> str:
    return f"Shadow mode: would have run {what}. Nothing ran."


def suggested(what: str, action: str) -> str:
    return f"Suggested fix: {what}. Run it with `/selfreg run {action}`."


def denied_with_reason(actor: str, reason: str) -> str:
    return f"Denied by {mention_user(actor)}" + (f": {reason}" if reason else ".")


def proposal_expired(proposal_id: int) -> str:
    return f"Proposal #{proposal_id} expired unanswered."


def action_timed_out(seconds: float) -> str:
    return f"timed out after {human_duration(seconds)}"


def action_result(what: str, ok: bool, summary: str, output: str, dry_run: bool) -> str:
    head = "Dry run of" if dry_run else ("Ran" if ok else "Failed:")
    text = f"{head} {what}: {summary}"
    if output.strip():
        tail = output.strip()[-2500:]
        text += f"\n```{tail}```"
    return text


def verified(summary: str) -> str:
    return f"Verified: {summary}"


def not_effective(summary: str) -> str:
    return f"Not effective: the check still fails ({summary}). Escalating."


def offer_line(proposal: object, what: str, risk: str, left: int, budget: str) -> str:
    """The proposal's line on the incident message."""
    state = proposal.state.value
    approvals = proposal.approvals
    decided_by = proposal.decided_by
    window = budget.split("/")[1]
    if state == "proposed" and left == 0:
        return f"*Proposed fix:* {what}: budget used ({budget.split('/')[0]} per {window}); the circuit breaker hands this incident to people"
    if state == "proposed":
        extra = (
            f" · approved by {', '.join(mention_user(a) for a in approvals)}, needs a second person"
            if approvals
            else ""
        )
        return f"*Proposed fix:* {what} ({risk} risk · {left} of {budget.split('/')[0]} left per {window}){extra}"
    who = f" by {mention_user(decided_by)}" if decided_by else ""
    words = {
        "running": f"approved{who}, running",
        "succeeded": f"approved{who}, done; verifying",
        "failed": f"approved{who}, failed",
        "verified": f"approved{who}, verified",
        "not_effective": f"approved{who}, not effective",
        "denied": f"denied{who}",
        "expired": "expired unanswered",
        "approved": f"approved{who}",
    }
    return f"*Fix:* {what}: {words.get(state, state)}"


def offer_closing(proposal: object, what: str) -> str:
    """The note on a resolved message: "restart api approved by @dana, verified"."""
    state = proposal.state.value
    decided_by = proposal.decided_by
    if state not in ("verified", "not_effective", "succeeded"):
        return ""
    who = (
        f" by {mention_user(decided_by)}"
        if decided_by and decided_by != "selfreg"
        else " automatically"
    )
    return f"{what} approved{who}, {'verified' if state == 'verified' else state.replace('_', ' ')}"


# ---- what a component control did (shown after "Ran", "Restarted anyway by") ---------------
def pids_restarted(before: str, after: str) -> str:
    return f"pid {before} -> {after}"


def pids_stopped(before: str) -> str:
    return f"stopped pid {before}"


def pids_already_running(pids: str) -> str:
    return f"already running, pid {pids}"


def pids_started(pids: str) -> str:
    return f"started pid {pids}"


def kept_stopped_detail(running: str | None) -> str:
    """``kept stopped``, naming the copies still running (of a component with several)."""
    return f"kept stopped; still running: pid {running}" if running else "kept stopped"


def component_restarted(name: str, before: str, after: str) -> str:
    return f"{name} restarted: pid {before} -> {after}"


def component_stopped(name: str, before: str) -> str:
    return f"{name} stopped (was pid {before})"


def component_started(name: str, pids: str) -> str:
    return f"{name} started: pid {pids}"


def component_scaled(name: str, before: int, instances: int) -> str:
    return f"{name} scaled from {before} to {instances} instances"


# ---- the offer's buttons on an incident message -----------------------------------------------
CONFIRM_TITLE, CONFIRM_YES, CONFIRM_NO, DENY_BUTTON = (
    "High-risk action",
    "Approve",
    "Cancel",
    "Deny",
)


def confirm_second_person(label: str) -> str:
    return f"{label}: a second person must approve too. Go ahead?"


def approve_button(label: str) -> str:
    return f"Approve: {label}"


# ---- runs and their verification -------------------------------------------------------------
def verify_returned_nothing(check: str) -> str:
    """A verification whose check produced no observation at all."""
    return f"{check} returned nothing"


def shadow_run_later() -> str:
    """The reason a shadow proposal is marked approved: a person ran the same action later."""
    return "a person ran it later"


def instances_scaled(before: int, instances: int, pids: str) -> str:
    """What ``Supervisor.scale`` reports: ``1 -> 3 instances, pid 10, 11, 12``."""
    return f"{before} -> {instances} instances, pid {pids}"

"""Regulation (issue 17): scale moves, their incidents, the safety rules, detectors and the
plan. Read in Slack (the regulation incident and its thread), on the console and by
``selfreg plan``."""

from __future__ import annotations

from bot.messages.common import human_duration, mention_user

WHY = {
    "above": "above its band",
    "below": "below its band",
    "forecast": "heading above its band",
    "fits": "low enough for one instance fewer",
}


def regulation_summary(
    rule: str, metric: str, value: float, low: float, high: float, why: str, eta: float | None
) -> str:
    """The regulation incident's line: which rule, the signal against its band."""
    text = f"regulation {rule}: {metric} {value:.4g} is {WHY.get(why, why)} ({low:.4g}..{high:.4g})"
    if why == "forecast" and eta is not None:
        text += f"; at this rate it reaches {high:.4g} in {human_duration(eta)}"
    return text


def regulation_move(
    action: str, metric: str, value: float, low: float, high: float, why: str, auto: bool
) -> str:
    """A move in the thread: done by selfreg, or proposed to a person."""
    band = f"{metric} {value:.4g}, band {low:.4g}..{high:.4g}"
    if auto:
        return f"⚖️ selfreg runs {action} by itself ({band}, {WHY.get(why, why)})"
    return f"⚖️ selfreg proposes {action} ({band}, {WHY.get(why, why)})"


def regulation_settled(metric: str, value: float, low: float, high: float) -> str:
    return f"{metric} {value:.4g} is back inside its band ({low:.4g}..{high:.4g})"


def regulation_kill_switch(by: str) -> str:
    return f"proposed instead of run: actions are paused by {mention_user(by)}"


def regulation_paused_reason(reason: str, by: str) -> str:
    if reason == "on":
        return f"proposed instead of run: regulation is paused by {mention_user(by)}"
    return f"proposed instead of run: regulation is paused ({reason})"


def regulation_budget(scope: str, budget: int) -> str:
    return f"proposed instead of run: the budget of {budget} automatic moves for {scope} is spent"


def regulation_breaker(rule: str, action: str, state: str) -> str:
    return f"circuit breaker: {action} of rule {rule} came out {state.replace('_', ' ')}"


def regulation_breaker_ask(reason: str) -> str:
    return (
        f"🛑 {reason}. Automatic regulation is paused: moves are now proposed to people. "
        "Resume with `selfreg plan resume` or `/selfreg plan resume` once it is understood."
    )


def regulation_failed() -> str:
    return "regulation failed on this sample; the checks go on"


def regulation_paused_by(paused: bool, by: str) -> str:
    """The answer to the button and to ``plan pause|resume``."""
    if paused:
        return f"⏸️ automatic regulation paused by {mention_user(by)}: moves are proposed instead"
    return f"▶️ automatic regulation resumed by {mention_user(by)}"


def regulate_check_unknown(rule: str, check: str) -> str:
    return f'regulate.scale "{rule}": check names "{check}", which is not a [[checks]] entry'


def regulate_action_wrong(rule: str, key: str, action: str) -> str:
    sign = "a positive" if key == "up" else "a negative"
    return (
        f'regulate.scale "{rule}": {key} names "{action}", which must be a scale_component or '
        f"fly_scale_count [[actions]] entry with {sign} step"
    )


def regulate_retired_key(old: str, value: object, new: str) -> str:
    return (
        f"{old} = {value!r} is no longer read: hysteresis is a duration now, write {new} = "
        f'"…" instead (how long the signal stays outside the band before a move; {value} × the '
        "check's interval is what the old count meant)"
    )


def regulate_retired_enabled(value: object) -> str:
    word = "off" if value is False else "propose"
    return (
        f'enabled = {str(value).lower()} is no longer read: write mode = "{word}" instead '
        "(off, propose or auto)"
    )


def regulate_auto_needs_low_risk(rule: str, action: str) -> str:
    return f'regulate.scale "{rule}": mode "auto" needs action "{action}" to have risk "low"'


def title_regulation(what: str) -> str:
    return f"⚖️ REGULATION  {what}"


def regulation_not_configured() -> str:
    return "no [[regulate.scale]] rules are configured: there is no regulation to pause"


PAUSE_REGULATION_BUTTON = "Pause regulation"


def _size(value: float) -> str:
    from common.units import format_size

    return format_size(int(value))


def _where(check: str, subject: str) -> str:
    return f"{check} {subject}".strip()


def leak_found(
    check: str,
    subject: str,
    per_hour: float,
    span: float,
    r2: float,
    limit: float | None,
    eta: float | None,
) -> str:
    """``memory of api grows 42MB an hour, steadily for 6 h (R² 0.97); its limit 1GB in 9 h``."""
    text = (
        f"memory of {_where(check, subject)} grows {_size(per_hour)} an hour, steadily for "
        f"{human_duration(span)} (R² {r2:.2f}): a leak"
    )
    if limit is not None and eta is not None:
        text += f"; at this rate it reaches its limit {_size(limit)} in {human_duration(eta)}"
    return text


def disk_filling(
    check: str, subject: str, level: float, per_hour: float, eta: float, r2: float
) -> str:
    return (
        f"disk {subject or check} is {level:.0f}% full and grows {per_hour:.2f} points an hour "
        f"(R² {r2:.2f}): full in {human_duration(eta)} at this rate"
    )


def cpu_pinned(check: str, subject: str, now: float, usual: float, window: float) -> str:
    return (
        f"{_where(check, subject)} uses {now:.0f}% CPU over the last {human_duration(window)}, "
        f"{now / max(usual, 1.0):.1f}× its usual {usual:.0f}%"
    )


def detector_proposes(action: str, urgent: bool, quiet_at: str) -> str:
    """The thread line under a finding: the fix, now or at the quiet window."""
    if urgent:
        return f"🔧 proposed now: {action} (it cannot wait for the quiet window at {quiet_at})"
    return (
        f"🔧 proposed: {action}, best at the next quiet window ({quiet_at}); "
        "approve it for then with *Approve at quiet time*"
    )


def detector_runs(action: str, quiet_at: str | None) -> str:
    """The thread line under a finding whose detector is in mode auto: now, or at the quiet
    window (``quiet_at``)."""
    when = f"at the next quiet window ({quiet_at})" if quiet_at else "now"
    return f"🔧 selfreg runs {action} by itself {when} (mode auto); *Pause regulation* stops it"


def detector_auto_needs_low_risk(action: str) -> str:
    return f'proposed instead of run: mode "auto" runs only low-risk actions, and {action} is not'


def detector_no_action(detector: str) -> str:
    return f"no configured action answers this {detector} finding: a person decides"


def cleanup_preview(summary: str) -> str:
    return f"dry run: {summary}"


def window_time(at: float) -> str:
    import time

    return time.strftime("%a %H:%M UTC", time.gmtime(at))


def plan_scheduled(action: str, run_at: float, run_id: int, actor: str) -> str:
    return (
        f"🗓️ {mention_user(actor)} approved {action} for the next quiet window: {window_time(run_at)} "
        f"(scheduled run {run_id}; cancel with `selfreg plan cancel {run_id}` or "
        f"`/selfreg plan cancel {run_id}`)"
    )


def plan_announced(run_id: int, run_at: float) -> str:
    return (
        f"⏰ scheduled run {run_id} starts at {window_time(run_at)}; "
        f"`/selfreg plan cancel {run_id}` stops it"
    )


def plan_cancelled(run_id: int, actor: str) -> str:
    return f"🗓️ scheduled run {run_id} cancelled by {mention_user(actor)}"


def plan_refused(run_id: int, reason: str) -> str:
    return f"🗓️ scheduled run {run_id} did not run: {reason}"


def plan_not_schedulable(proposal_id: int) -> str:
    return f"proposal {proposal_id} is not waiting for a decision: nothing to schedule"


def plan_already_scheduled(proposal_id: int) -> str:
    return f"proposal {proposal_id} is already scheduled (see `selfreg plan`)"


def plan_not_cancellable(run_id: int) -> str:
    return f"there is no scheduled run {run_id} still waiting (see `selfreg plan`)"


def horizon_line(row: dict[str, object]) -> str:
    """``/data full in 23 d at this rate`` or ``rss of api at its limit in 6 h``."""
    eta = human_duration(float(row["eta"]))  # type: ignore[arg-type]
    where = _where(str(row["check"]), str(row["subject"]))
    if row["level"] == "full":
        return f"{row['subject'] or row['check']} full in {eta} at this rate"
    return f"{row['metric']} of {where} at its limit ({row['limit']:g}) in {eta} at this rate"


def plan_text(document: dict[str, object]) -> str:
    """``selfreg plan`` and ``/selfreg plan``: what is scheduled, the horizon, the switch."""
    lines = []
    paused = document.get("paused")
    if isinstance(paused, dict):
        lines.append(f"⏸️ automatic regulation paused ({paused['reason']}, by {paused['by']})")
    scheduled = document.get("scheduled") or []
    lines.append("Scheduled:" if scheduled else "Scheduled: nothing")
    lines.extend(f"  {scheduled_line(run)}" for run in scheduled)  # type: ignore[attr-defined]
    horizon = document.get("horizon") or []
    lines.append("Capacity horizon:" if horizon else "Capacity horizon: no limit in sight")
    lines.extend(f"  {horizon_line(row)}" for row in horizon)  # type: ignore[attr-defined]
    return "\n".join(lines)


def plan_usage() -> str:
    return "usage: plan [schedule PROPOSAL | cancel RUN | pause | resume]"


def plan_scheduled_answer(run_id: int, run_at: float) -> str:
    return f"🗓️ scheduled run {run_id} at the next quiet window, {window_time(run_at)}"


APPROVE_AT_QUIET_BUTTON = "Approve at quiet time"
USAGE_PLAN = "/selfreg plan [schedule PROPOSAL | cancel RUN | pause | resume]"


def scheduled_heading(count: int) -> str:
    return f"Scheduled for quiet windows ({count}):"


def scheduled_line(run: dict[str, object]) -> str:
    """One scheduled run in ``selfreg status`` and ``/selfreg status``."""
    return (
        f"run {run['id']}: {run['action']} at {window_time(float(run['run_at']))} "  # type: ignore[arg-type]
        f"(proposal {run['proposal']}, by {run['by']}; `selfreg plan cancel {run['id']}`)"
    )


def growth_found(path: str, per_hour: float, span: float, level: float, r2: float) -> str:
    return (
        f"{path} grows {_size(per_hour)} an hour, steadily for {human_duration(span)} "
        f"(R² {r2:.2f}) with no rotation; it holds {_size(level)} now"
    )

"""Incident events, worded once for every channel (Slack thread, console, email, webhook).

What happened to an incident (opened, resolved, escalated, silenced, a crash loop ...), as the
line each notifier posts or prints.
"""

from __future__ import annotations

from bot.messages.common import clock_time, human_duration, mention_user


def opened(summary: str) -> str:
    return f"Opened: {summary}"


def reopened(summary: str) -> str:
    return f"Failing again: {summary}"


def status_changed(previous: str, current: str, summary: str) -> str:
    return f"Now {current} (was {previous}): {summary}"


STABLE_AGAIN = "stable again"  # why a flapping incident resolved (``resolved``'s summary)


def resolved(after: float, summary: str) -> str:
    return f"Resolved after {human_duration(after)}: {summary}"


def acknowledged(actor: str) -> str:
    return f"Acknowledged by {mention_user(actor)}; escalation stopped."


def escalated(step: int, steps: int, after: float) -> str:
    return f"Escalation step {step} of {steps}: still open and not acknowledged after {human_duration(after)}."


def escalated_early(step: int, steps: int, after: float) -> str:
    """An escalation taken at once (a fix did not help): acknowledged or not, it still fails."""
    return f"Escalation step {step} of {steps}: still failing after {human_duration(after)}."


def still_open(after: float) -> str:
    return f"Reminder: still open after {human_duration(after)}."


def ack_reminder(after: float) -> str:
    return f"Reminder: acknowledged {human_duration(after)} ago and still open."


def flapping(changes: int, window: float) -> str:
    return (
        f"Flapping: {changes} state changes within {human_duration(window)}. "
        "One message until it settles."
    )


def silenced(actor: str, until: float | None, reason: str) -> str:
    end = f"until {clock_time(until)}" if until is not None else "until it resolves"
    why = f" ({reason})" if reason else ""
    return f"Silenced by {mention_user(actor)} {end}{why}."


def silence_ended() -> str:
    return "Silence ended; alerting again."


def crash_loop(name: str, exits: int, window: float) -> str:
    return (
        f"Component {name} exited {exits} times within {human_duration(window)}: automatic "
        "restarts are stopped. Restart it anyway, or keep it stopped?"
    )


def restarted_anyway(actor: str, detail: str) -> str:
    return f"Restarted anyway by {mention_user(actor)}: {detail}"


def kept_stopped(actor: str) -> str:
    return f"Kept stopped by {mention_user(actor)}."


def removed_from_config(what: str) -> str:
    return f"Resolved: {what} was removed from the config."


def component_reconfigured(name: str) -> str:
    """A reload changed a crash-looping component: it was restarted with the new config."""
    return f"Component {name} was restarted with its changed config (live reload)."


# ---- a check that could not judge (the UNKNOWN observation's summary) -----------------------
def check_returned_nothing() -> str:
    return "the check returned nothing"


def check_timed_out(timeout: float) -> str:
    return f"timed out after {timeout:g}s"


def check_failed(error: str) -> str:
    return f"check failed: {error}"


# ---- the Slack incident message (built by bot.slack.render) -----------------------------------
def title_resolved(after: float, what: str) -> str:
    return f"✅ RESOLVED after {human_duration(after)}  {what}"


def title_silenced(what: str) -> str:
    return f"🔕 SILENCED  {what} is failing"


def title_flapping(what: str) -> str:
    return f"🔁 FLAPPING  {what}"


def title_predicted(word: str, what: str) -> str:
    return f"🔮 {word}  {what}"


def title_failing(icon: str, severity: str, what: str) -> str:
    return f"{icon} {severity.upper()}  {what} is failing"


def runs_failed(count: int) -> str:
    return f"{count} check{'s' if count != 1 else ''} failed"


def times_predicted(count: int) -> str:
    return f"predicted {count} time{'s' if count != 1 else ''}"


def owner_acknowledged(actor: str) -> str:
    return f"acknowledged by {mention_user(actor)}"


OWNER_RESOLVED, OWNER_NOBODY = "resolved", "not acknowledged"


def incident_facts(first: str, last: str, failed: str, owner: str, incident_id: int) -> str:
    """The context line under an incident message; ``first`` and ``last`` are Slack dates."""
    return f"First seen {first} · last {last} · {failed} · {owner} · #{incident_id}"


def last_hour(sparkline: str) -> str:
    return f"Last hour {sparkline}"


def storm_title(count: int, still_open: int) -> str:
    return f"🌩 {count} incidents opened at once · {still_open} still open"


def storm_note() -> str:
    return "Each incident's own message, with its buttons, is in this thread."


def digest_line(icon: str, incident_id: int, what: str, summary: str) -> str:
    """One incident in the storm digest: its state's icon, number, check and summary."""
    return f"{icon} #{incident_id} {what}: {summary}"


def and_more(rest: int) -> str:
    """The line that sums up what a list had no room for."""
    return f"…and {rest} more"


def maintenance_reason(window: str) -> str:
    """The reason of the silence a maintenance window makes."""
    return f"maintenance window {window}"


def remediation_not_effective() -> str:
    return "Remediation was not effective."


# ---- why selfreg stopped a component (the reason of a component_stopped event) ---------------
def stopped_unconfigured() -> str:
    return "no longer configured"


def stopped_command_changed() -> str:
    return "command changed"

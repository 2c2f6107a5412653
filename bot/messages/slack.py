"""Slack replies: slash-command help and answers, ephemeral refusals, button and modal text.

Only people in Slack read these; they may use Slack markup (backticks, mentions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.messages.common import clock_time, human_duration, mention, mention_user
from bot.records import Incident, Silence


def command_help() -> str:
    return "\n".join(
        [
            "`/selfreg status`: checks with 24 h and 7 d availability, open incidents, components, silences",
            "`/selfreg health`: run every check now and show the result",
            "`/selfreg alerts`: open incidents",
            "`/selfreg ack ID`: acknowledge incident ID (stops its escalation)",
            "`/selfreg silence MATCHER DURATION [from=TIME] [reason]`: e.g. `/selfreg silence check=api* 2h deploy`; "
            "`from=2026-12-01T02:00Z` schedules a maintenance window",
            "`/selfreg unsilence ID`: end silence ID",
            "`/selfreg history [N|CHECK [1h|24h|7d|30d]]`: the last N incidents (default 10), or a "
            "check's trend per day (min / mean / max, availability, incidents; default 24h)",
            "`/selfreg run ACTION [INCIDENT]`: propose a configured action (run at once if you may approve it)",
            "`/selfreg actions [pause|resume]`: actions with their policy and budget; admins pause or resume all",
            "`/selfreg audit [INCIDENT|USER]`: the recent audit trail",
            "`/selfreg reload`: reload the config file now (admins)",
            "`/selfreg predict [CHECK]`: current anomalies, failure risks and forecasts",
            "`/selfreg chart ID`: post a chart of incident ID's metric around it in its thread (also the *Show chart* button)",
            "`/selfreg plan [schedule ID|cancel RUN|pause|resume]`: scheduled maintenance, the "
            "capacity horizon, automatic regulation (resume: admins)",
            "`/selfreg help`: this text",
            "",
            "*Buttons* on an incident message: *Approve: …* / *Deny* (a proposed fix; high risk "
            "needs two people), *Acknowledge*, *Silence 1 h*, *Silence until resolved* / "
            "*Unsilence*, *Runbook*; on a prediction *Useful* / *False alarm*; on a crash loop "
            "(admins) *Restart anyway* / *Keep stopped*; on a fix that may wait *Approve at quiet "
            "time*, on a regulation incident *Pause regulation*.",
            "Without Slack, the same from a terminal: `selfreg alerts`, `ack`, `silence`, "
            "`run`, `approve`, `deny` (see `selfreg --help`).",
        ]
    )


def unknown_command(word: str) -> str:
    return f"I don't know `{word}`. Here is what I can do:"


def bad_arguments(usage: str, problem: str) -> str:
    return f"{problem}. Usage: `{usage}`"


def not_allowed(command: str) -> str:
    return f"You may not run `{command}`: ask an admin to add you (or your user group) to [slack.permissions] {command}."


def health_started(count: int) -> str:
    return f"Running {count} checks now; the result follows here."


def acknowledged_reply(incident_id: int) -> str:
    return f"Incident #{incident_id} acknowledged; escalation stopped."


def silence_added(silence_id: int, matcher: str, until: float) -> str:
    return f"Silence #{silence_id} added for {matcher} until {clock_time(until)}."


def silence_removed(silence_id: int) -> str:
    return f"Silence #{silence_id} removed."


def button_not_for_this_message(incident_id: int) -> str:
    return f"That button does not belong to incident #{incident_id}'s message; nothing changed."


def button_stale(reason: str) -> str:
    return f"Nothing changed: {reason}."


def manual_run(proposal_id: int, action: str, reason: str, allowed: bool) -> str:
    if allowed:
        return f"Proposal #{proposal_id} ({action}): {reason}"
    return f"Proposal #{proposal_id} ({action}) is waiting: {reason}"


def admins_only(command: str) -> str:
    return f"Only admins may run `{command}`."


def kill_switch(paused: bool, actor: str) -> str:
    if paused:
        return f"Actions paused by {mention_user(actor)}: nothing runs, not even automatic fixes, until `/selfreg actions resume`."
    return f"Actions resumed by {mention_user(actor)}."


def no_actions_configured() -> str:
    return "No actions are configured: add [[actions]] to selfreg.toml."


def silence_scheduled(silence_id: int, matcher: str, start: float, end: float) -> str:
    return f"Maintenance window #{silence_id} scheduled for {matcher}: {clock_time(start)} to {clock_time(end)}."


def reload_in_progress() -> str:
    return "Reloading the config; the result is posted in the channel."


def reload_unavailable() -> str:
    return "This selfreg cannot reload its config."


# ---- buttons: why a click changed nothing ---------------------------------------------------
def button_not_selfregs() -> str:
    return "that button is not one of selfreg's"


def button_not_for_proposal(proposal_id: int) -> str:
    return f"that button does not belong to proposal #{proposal_id}'s incident message"


def not_about_a_component() -> str:
    return "that incident is not about a component"


def not_silenced(incident_id: int) -> str:
    return f"incident #{incident_id} is not silenced"


NO_PROPOSAL_VALUE = "(none)"


# ---- the Deny modal ---------------------------------------------------------------------------
DENY_TITLE, DENY_SUBMIT, DENY_CLOSE = "Deny the fix", "Deny", "Cancel"


def deny_question(proposal_id: int) -> str:
    return f"Why deny proposal #{proposal_id}?"


# ---- command replies (Block Kit built by bot.slack.views) -----------------------------------
def status_title() -> str:
    return "selfreg status"


def status_note(uptime: float) -> str:
    return f"selfreg up {human_duration(uptime)}"


def checks_section(count: int, overall: str) -> str:
    return f"*Checks* ({count}): {overall or 'none yet'}"


def check_status_line(icon: str, what: str, summary: str, day: str, week: str) -> str:
    return f"{icon} *{what}* {summary} · 24 h {day} · 7 d {week}"


def open_incidents_section(count: int) -> str:
    return f"*Open incidents* ({count})"


def none_open() -> str:
    return "None."


def components_section(count: int) -> str:
    return f"*Components* ({count})"


def component_status_line(component: Mapping[str, Any], now: float) -> str:
    """``🟢 *api* running · pid 412 · up 3 h 2 m · 0 restarts``."""
    c = component
    running = c["status"] == "running"
    up = human_duration(now - c["started_at"]) if c.get("started_at") and running else "—"
    return (
        f"{'🟢' if running else '🔴'} *{c['name']}* {c['status']} · pid {c.get('pid') or '—'} "
        f"· up {up} · {c.get('restarts', 0)} restarts"
    )


def silences_section(count: int) -> str:
    return f"*Silences* ({count})"


def incident_line(icon: str, incident: Incident, what: str, since: str, summary: str) -> str:
    """An open incident in ``status`` and ``alerts``; ``since`` is a Slack date."""
    owner = f" · acked by {mention_user(incident.acked_by)}" if incident.acked_by else ""
    return f"{icon} #{incident.id} *{what}* {incident.state.value} since {since}{owner}: {summary}"


def silence_line(silence: Silence, matcher: str, until: str) -> str:
    reason = f" · {silence.reason}" if silence.reason else ""
    return f"🔕 #{silence.id} {matcher} until {until} by {mention_user(silence.author)}{reason}"


def silence_until_resolved() -> str:
    return "resolved"


def alerts_title(count: int) -> str:
    return f"{count} open incident{'s' if count != 1 else ''}"


def nothing_open() -> str:
    return "Nothing is open. 🎉"


def history_line(incident: Incident, what: str, opened: str, now: float, summary: str) -> str:
    """A past or present incident in ``/selfreg history``; ``opened`` is a Slack date."""
    i = incident
    if i.resolved_at is not None:
        how = f"resolved after {human_duration(i.resolved_at - i.opened_at)}"
    else:
        how = f"{i.state.value} for {human_duration(now - i.opened_at)}"
    return f"#{i.id} {opened} *{what}* {i.severity.value}, {how}: {summary}"


def history_title(count: int) -> str:
    return f"Last {count} incidents"


def no_incidents_yet() -> str:
    return "No incidents yet."


def health_line(icon: str, what: str, summary: str) -> str:
    return f"{icon} *{what}* {summary}"


def health_title() -> str:
    return "selfreg health: every check, run now"


def commands_title() -> str:
    return "selfreg commands"


def action_line(action: Mapping[str, Any]) -> str:
    """An action in ``/selfreg actions``: mode, risk, budget left, approvers, shadow record."""
    a = action
    shadow = (
        f" · shadow: {a['shadow'][1]} of {a['shadow'][0]} later run by a person"
        if a.get("shadow")
        else ""
    )
    return (
        f"*{a['name']}* {a['what']} · {a['mode']} · {a['risk']} risk · "
        f"{a['left']} of {a['budget']} left · approvers: "
        + (", ".join(mention(x) for x in a["approvers"]) or "nobody")
        + shadow
    )


def actions_title(count: int) -> str:
    return f"{count} actions"


def actions_note(paused_by: str | None) -> str:
    return f"⛔ Paused by {mention_user(paused_by)}" if paused_by else "Actions are enabled."


def no_actions_short() -> str:
    return "No actions configured."


def audit_line(at: str, row: Mapping[str, Any]) -> str:
    """An audit row in ``/selfreg audit``; ``at`` is a Slack date."""
    return f"{at} {row['kind']} {row['subject']} by {mention_user(row['actor'])}"


def audit_title() -> str:
    return "Audit trail"


def nothing_recorded() -> str:
    return "Nothing recorded yet."


# ---- why a slash command's arguments are refused (``bad_arguments``' problem) ---------------
def not_a_number(what: str, text: str) -> str:
    return f"{what} must be a number, not '{text}'"


def not_pause_or_resume(words: str) -> str:
    return f"'{words}' is not pause or resume"


GIVE_INCIDENT_ID = "give one incident id"
GIVE_MATCHER_AND_DURATION = "give a matcher and a duration"
DURATION_NOT_POSITIVE = "the duration must be positive"
GIVE_SILENCE_ID = "give one silence id"
GIVE_ACTION = "give an action name"
GIVE_AUDIT_SUBJECT = "give at most one incident id or user"
GIVE_AT_MOST_ONE_CHECK = "give at most one check"
FROM_NEEDS_TIME = "from= takes a time like 2026-12-01T02:00Z"

# each command's usage line (``bad_arguments``' ``usage``), by command
USAGE = {
    "run": "/selfreg run ACTION [INCIDENT]",
    "actions": "/selfreg actions [pause|resume]",
    "audit": "/selfreg audit [INCIDENT|USER]",
    "ack": "/selfreg ack ID",
    "silence": "/selfreg silence MATCHER DURATION [from=TIME] [reason]",
    "unsilence": "/selfreg unsilence ID",
    "history": "/selfreg history [N|CHECK [1h|24h|7d|30d]]",
    "predict": "/selfreg predict [CHECK]",
    "chart": "/selfreg chart ID",
}


# ---- the incident message's buttons and its cross-posts --------------------------------------
class IncidentButtons:
    """The labels of the buttons under an incident message (``bot.slack.render``)."""

    restart_anyway = "Restart anyway"
    keep_stopped = "Keep stopped"
    crash_loop_choice = "Restart anyway / Keep stopped"  # what only admins may click
    acknowledge = "Acknowledge"
    unsilence = "Unsilence"
    silence_hour = "Silence 1 h"
    silence_resolved = "Silence until resolved"
    useful = "Useful"
    false_alarm = "False alarm"
    runbook = "Runbook"
    show_chart = "Show chart"


def original_message_link(permalink: str) -> str:
    """Appended to a cross-post: a link back to the incident message."""
    return f" <{permalink}|original message>"

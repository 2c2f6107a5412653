"""Slack replies: slash-command help and answers, ephemeral refusals, button and modal text.

Only people in Slack read these; they may use Slack markup (backticks, mentions).
"""

from __future__ import annotations

from bot.messages.common import clock_time, mention_user


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
            "`/selfreg history [N]`: the last N incidents (default 10)",
            "`/selfreg run ACTION [INCIDENT]`: propose a configured action (run at once if you may approve it)",
            "`/selfreg actions [pause|resume]`: actions with their policy and budget; admins pause or resume all",
            "`/selfreg audit [INCIDENT|USER]`: the recent audit trail",
            "`/selfreg reload`: reload the config file now (admins)",
            "`/selfreg predict [CHECK]`: current anomalies, failure risks and forecasts",
            "`/selfreg help`: this text",
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

"""The terminal's answers to the operator commands (``selfreg alerts``, ``ack``, ``silence``,
``run``, ``component``, ``logs``) and the control socket's refusals of a CLI user; also the
config loader's "did you mean" hint. Plain text: a terminal reads them, not Slack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.messages.common import human_duration, subject_label, utc_time
from bot.messages.slack import silence_added, silence_scheduled
from bot.records import Silence


def unknown_key(suggestion: str | None, known: Sequence[str]) -> str:
    """A key no table declares, with the nearest known one when one is close."""
    if suggestion is not None:
        return f"unknown key; did you mean `{suggestion}`?"
    return f"unknown key; known keys here: {', '.join(known)}" if known else "unknown key"


def cli_user_unmapped(command: str, local_user: str) -> str:
    """A mutating command from a local user ``[cli] users`` does not name."""
    return (
        f"`{command}` needs to know who you are: local user {local_user!r} is not in the "
        f'config\'s [cli] users (e.g. [cli] users = {{ {local_user} = "U012ABC" }}, '
        "your Slack user id or a name the approver lists use)"
    )


def cli_not_permitted(command: str, actor: str) -> str:
    """An approver ``[slack] permissions`` does not allow ``command``."""
    return (
        f"{actor} may not run `{command}`: ask an admin to add you (or your user group) "
        f"to [slack.permissions] {command}"
    )


def silence_answer(silence: Silence, now: float) -> str:
    """What a person hears after adding a silence, through any door: added, or scheduled."""
    text = ", ".join(f"{k}={v}" for k, v in silence.matcher.items())
    if silence.starts_at > now:
        return silence_scheduled(silence.id, text, silence.starts_at, silence.ends_at or 0)
    return silence_added(silence.id, text, silence.ends_at or 0)


def component_controlled(name: str, verb: str, outcome: str) -> str:
    """``selfreg component restart|stop|start NAME`` done: what the supervisor says happened."""
    done = {"restart": "restarted", "stop": "stopped", "start": "started"}[verb]
    return f"component {name} {done}: {outcome}"


def cli_history_heading(count: int) -> str:
    return f"Last {count} incident(s), newest first:"


def cli_history_line(incident: Mapping[str, Any], now: float) -> str:
    """One incident of ``selfreg history``: open ones as the status screen shows them,
    resolved ones with when they opened and how long they lasted."""
    what = subject_label(incident["check"], incident["subject"])
    head = f"  #{incident['id']}  {incident['severity'].upper():<8}  {what}  "
    if incident["resolved_at"] is None:
        opened = human_duration(now - incident["opened_at"])
        return f"{head}{incident['state']} for {opened}: {incident['summary']}"
    lasted = human_duration(incident["resolved_at"] - incident["opened_at"])
    return (
        f"{head}resolved, opened {utc_time(incident['opened_at'])}, lasted {lasted}: "
        f"{incident['summary']}"
    )


def history_needs_number(word: str) -> str:
    """``selfreg history WORD`` where WORD is no count."""
    return f"history takes a number of incidents, not {word!r}"


def needs_running(command: str, data_dir: str) -> str:
    """``approve`` and the like from a folder where no selfreg runs (the usual slip: another
    folder than the one ``selfreg run`` was started in)."""
    return (
        f"no selfreg is running with the data folder {data_dir}; `{command}` is carried out "
        "by the running instance: run it from the folder selfreg was started in, or give "
        "the same --data-dir / -c"
    )


def component_log_choice(name: str, labels: Sequence[str]) -> str:
    """``selfreg logs NAME`` of a component with several instances: each has its own file."""
    return f"component {name} has {len(labels)} instances; name one: {', '.join(labels)}"


def unknown_log(name: str, known: Sequence[str]) -> str:
    return f"no component named {name!r}; known: {', '.join(known) or 'none'}"


def no_log_yet(path: str) -> str:
    return f"no output yet: {path} does not exist"


def not_an_id(text: str) -> str:
    return f"{text!r} is not an id (a number such as 12 or #12)"


def cli_user_not_an_id(local_user: str, actor: str) -> str:
    """``[cli] users`` maps a local user to something that is not a Slack user id."""
    return (
        f"{local_user} = {actor!r}: expected a Slack user id (U… or W…), as approver lists, "
        "admins and permissions name people"
    )

"""The terminal's answers to the operator commands (``selfreg alerts``, ``ack``, ``silence``,
``run``, ``component``, ``logs``) and the control socket's refusals of a CLI user; also the
config loader's "did you mean" hint. Plain text: a terminal reads them, not Slack."""

from __future__ import annotations

from collections.abc import Sequence

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

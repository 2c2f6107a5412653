"""Reading the parts of a Slack payload selfreg acts on, defensively.

Slack signs what it sends, but a payload is still data from outside: every field is read
with its type checked, so a missing key or a value of another type is a refusal with a
reason, never an exception inside a listener.
"""

from __future__ import annotations

from typing import Any

from bot.records import Incident


def user_of(body: dict[str, Any]) -> str:
    """The clicking or typing user's id, or "" when the payload carries none."""
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    return user_id if isinstance(user_id, str) else ""


def from_message_of(body: dict[str, Any], incident: Incident) -> bool:
    """The click came from the incident's own message: its ts AND its channel (a ts is
    unique only within one channel, so a copy elsewhere could carry the same one)."""
    container = body.get("container")
    if not isinstance(container, dict) or incident.slack_ts is None:
        return False
    channel = incident.slack_channel
    return container.get("message_ts") == incident.slack_ts and (
        channel is None or container.get("channel_id") == channel
    )


def deny_submission(view: Any) -> tuple[int, str] | None:
    """(proposal id, reason) from a submitted Deny form, or None when it is not one."""
    if not isinstance(view, dict):
        return None
    metadata = view.get("private_metadata")
    if not isinstance(metadata, str) or not metadata.isdigit() or len(metadata) > 18:
        return None
    reason: Any = view.get("state")
    for key in ("values", "reason", "text"):
        reason = reason.get(key) if isinstance(reason, dict) else None
    value = reason.get("value") if isinstance(reason, dict) else None
    return int(metadata), value.strip() if isinstance(value, str) else ""

"""What selfreg says when an input it was sent cannot be read or a form cannot be shown:
Slack requests that are not Slack's shape, control-socket requests that are not JSON.

Read by whoever sent the request (the HTTP answer) and in selfreg's log.
"""

from __future__ import annotations

from bot.messages.common import human_duration


def slack_request_unreadable(error: str) -> str:
    """The answer to a POST on /slack/events that is not a Slack request selfreg can read."""
    return f"This is not a Slack request selfreg can read ({error}); nothing changed."


def slack_request_failed(error: str) -> str:
    """Log line: a Slack request failed inside Bolt or a listener (its traceback is at DEBUG)."""
    return f"a Slack request was dropped, nothing changed: {error}"


def deny_form_failed(proposal_id: int, error: str) -> str:
    return (
        f"Could not open the form to deny proposal #{proposal_id} (Slack said {error}); "
        f"nothing changed. Click Deny again, or run `selfreg deny {proposal_id}` on the machine."
    )


def deny_form_unreadable() -> str:
    return "This form is not one selfreg can read; nothing changed."


def control_body_not_json(error: str) -> str:
    return f"The request body must be a JSON object ({error}); nothing changed."


def store_write_failed(path: str, error: str) -> str:
    return (
        f"the store {path} cannot be written ({error}): checks go on, but nothing new is kept "
        "until it can; /health says so"
    )


def store_writable_again(path: str, lasted: float, refused: int) -> str:
    return (
        f"the store {path} takes writes again after {human_duration(lasted)}: what was "
        f"committed before is all there; {_writes(refused)} refused in between"
    )


def store_error_read_only_fs(error: str) -> str:
    return f"{error}: the file system is read-only"


def store_fault_slack(path: str, error: str) -> str:
    """Slack's notice that the store cannot be written: sent directly, not through the
    store's outbox, which is what cannot be written."""
    return (
        f":warning: *selfreg cannot record*: the store `{path}` refuses writes ({error}). "
        "Checks go on, but nothing new is kept (no samples, no incidents, no alerts: they "
        f"go through the store) until it can; /health says so. {_store_fault_advice(error)} "
        "selfreg takes writes again by itself as soon as the store can be written."
    )


def _store_fault_advice(error: str) -> str:
    """What to do, by the kind of fault the store named (full, read-only, locked, other)."""
    if "full" in error:
        return "Free space on its disk."
    if "read-only" in error:
        return (
            "Make its file system writable again (an ext4 that turned read-only on an error "
            "needs selfreg stopped, an unmount and fsck)."
        )
    if "locked" in error:
        return "Stop what holds the store (another program writing to it)."
    return "Check the disk it is on (the kernel log says more)."


def store_fault_over_slack(path: str, lasted: float, refused: int) -> str:
    """Slack's notice that the store takes writes again."""
    return (
        f":white_check_mark: *selfreg records again*: the store `{path}` took writes again "
        f"after {human_duration(lasted)}. Nothing committed before was lost; "
        f"{_writes(refused)} refused in between were not kept."
    )


def store_fault_notice_dropped(attempts: int, error: str) -> str:
    return (
        f"a store fault notice could not be sent to Slack after {attempts} attempt(s) "
        f"({error}); the console has it"
    )


def _writes(count: int) -> str:
    return f"{count} write{'s' if count != 1 else ''}"

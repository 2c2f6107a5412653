"""What selfreg says when an input it was sent cannot be read or a form cannot be shown:
Slack requests that are not Slack's shape, control-socket requests that are not JSON.

Read by whoever sent the request (the HTTP answer) and in selfreg's log.
"""

from __future__ import annotations


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


def store_writable_again(path: str) -> str:
    return f"the store {path} takes writes again"

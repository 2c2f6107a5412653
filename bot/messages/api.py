"""What the management API (``/api/v1``) and its shared door logic say: refusals, the
error sentences of its JSON answers, and the thread line of an incident resolved by hand."""

from __future__ import annotations

from bot.messages.common import mention_user


def resolved_by_hand(actor: str) -> str:
    """The thread line when a person resolves an incident through the API."""
    return f"Resolved by hand by {mention_user(actor)}."


def incident_still_failing(incident_id: int) -> str:
    return (
        f"incident #{incident_id}'s check still fails: resolving it would hide the failure; "
        "acknowledge or silence it instead"
    )


def unknown_decision(verb: str) -> str:
    return f"{verb!r} is not something a person can do here"


def api_token_missing() -> str:
    return "this route needs Authorization: Bearer <token> with a token from [[api.tokens]]"


def api_token_unknown() -> str:
    return "the bearer token is not one of [[api.tokens]]"


def api_role_missing(identity: str, role: str) -> str:
    return f"identity {identity!r} lacks the role {role!r} this route needs"


def api_not_found() -> str:
    return "there is no such route under /api/v1"


def api_method_not_allowed(method: str) -> str:
    return f"this route does not take {method}"


def api_bad_json() -> str:
    return "the request body must be a JSON object"


def api_bad_number(name: str, value: str) -> str:
    return f"{name} must be a number, got {value!r}"


def api_no_check(name: str) -> str:
    return f"there is no check named {name!r}"


def api_no_proposal(proposal_id: int) -> str:
    return f"there is no proposal #{proposal_id}"


def api_proposal_decided(proposal_id: int, state: str) -> str:
    return f"proposal #{proposal_id} is already {state}; nothing changed"


def api_token_env_unset(name: str, variable: str) -> str:
    """Logged at start: an ``[[api.tokens]]`` entry whose variable is not set."""
    return f"[[api.tokens]] {name!r}: {variable} is not set, so this identity cannot sign in"


def api_token_shared(first: str, second: str) -> str:
    return f"[[api.tokens]] {first!r} and {second!r} hold the same token: give each its own"


def api_actor_not_an_id(actor: str) -> str:
    """An ``[[api.tokens]]`` actor that is not a Slack user id."""
    return f"{actor!r}: expected a Slack user id (U… or W…), as approver lists name people"


def api_internal_error() -> str:
    return "selfreg failed to answer this request; its log says why"


def api_internal_error_logged() -> str:
    return "an /api/v1 request failed"


def api_bad_range(name: str, most: int, value: str) -> str:
    return f"{name} must be a whole number from 1 to {most}, got {value}"


def api_bad_state(state: str) -> str:
    return f"state must be open or all, got {state!r}"


def api_bad_incident(value: object) -> str:
    return f"incident must be an incident id (a whole number), got {value!r}"

"""Slack's real reply and envelope shapes, taken from `api-samples/slack/`.

The stand-in is committed with the project and must not read `/work/shared` at run time, so the
sample files are carried here as templates: same keys, same order, same nesting, with the
emulator's IDs filled in. `SAMPLE_FILES` names the file each template comes from;
`test_slack_standin.py` compares the two whenever the samples are on disk, so they cannot drift.
"""

from __future__ import annotations

import copy
from typing import Any

SAMPLE_FILES: dict[str, str] = {
    "apps_connections_open": "apps_connections_open.json",
    "auth_test": "auth_test.json",
    "chat_postMessage_ok": "chat_postMessage_ok.json",
    "error": "error_invalid_auth.json",
    "hello": "socket_hello.json",
    "disconnect_refresh": "socket_disconnect_refresh.json",
    "disconnect_too_many": "socket_disconnect_too_many.json",
    "slash_envelope": "socket_envelope_slash_command.json",
    "block_actions_envelope": "socket_envelope_block_actions.json",
    "events_envelope": "socket_envelope_events_api_app_mention.json",
}

_DEBUG_INFO = {"host": "applink-127-emu"}


def error(code: str, **extra: Any) -> dict[str, Any]:
    """Web API error body: `{"ok": false, "error": code}` plus any extra fields Slack adds."""
    return {"ok": False, "error": code, **extra}


def auth_test(*, domain: str, team: str, user: str, team_id: str, user_id: str, bot_id: str):
    """`auth.test` reply (auth_test.json)."""
    return {
        "ok": True,
        "url": f"https://{domain}.slack.com/",
        "team": team,
        "user": user,
        "team_id": team_id,
        "user_id": user_id,
        "bot_id": bot_id,
        "is_enterprise_install": False,
    }


def connections_open(url: str) -> dict[str, Any]:
    """`apps.connections.open` reply (apps_connections_open.json)."""
    return {"ok": True, "url": url}


def hello(num_connections: int, app_id: str) -> dict[str, Any]:
    """The first frame on a new socket (socket_hello.json)."""
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {**_DEBUG_INFO, "build_number": 10, "approximate_connection_time": 18060},
        "connection_info": {"app_id": app_id},
    }


def disconnect(reason: str, num_connections: int, app_id: str) -> dict[str, Any]:
    """A `disconnect` frame; `too_many_websockets` carries the connection count."""
    if reason == "too_many_websockets":
        return {
            "type": "disconnect",
            "reason": reason,
            "num_connections": num_connections,
            "debug_info": dict(_DEBUG_INFO),
            "connection_info": {"app_id": app_id},
        }
    return {"type": "disconnect", "reason": reason, "debug_info": dict(_DEBUG_INFO)}


def envelope(
    envelope_id: str, kind: str, payload: dict[str, Any], accepts_response_payload: bool
) -> dict[str, Any]:
    """A socket-mode envelope, keys in the order of the sample envelopes."""
    return {
        "envelope_id": envelope_id,
        "payload": payload,
        "type": kind,
        "accepts_response_payload": accepts_response_payload,
    }


def events_envelope(
    envelope_id: str, payload: dict[str, Any], retry_attempt: int, retry_reason: str
) -> dict[str, Any]:
    """An `events_api` envelope (socket_envelope_events_api_app_mention.json)."""
    out = envelope(envelope_id, "events_api", payload, False)
    out.update({"retry_attempt": retry_attempt, "retry_reason": retry_reason})
    return out


def clone(value: Any) -> Any:
    """Deep copy, so a payload handed out never aliases the emulator's own state."""
    return copy.deepcopy(value)

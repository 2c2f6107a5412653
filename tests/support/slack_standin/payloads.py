"""Inbound payloads (Slack -> bot) built the way Slack builds them, and HTTP-mode signing.

Payload keys follow the sample envelopes in `api-samples/slack/`; a click is built from the
message as the emulator stored it, so the bot sees its own blocks come back, block_ids included.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from .records import Message, View
from .store import Store


def user_ref(store: Store, user: str) -> dict[str, Any]:
    """The `user` object of an interaction payload."""
    name = store.user_name(user)
    return {"id": user, "username": name, "name": name, "team_id": store.config.team_id}


def team_ref(store: Store) -> dict[str, Any]:
    """The `team` object of an interaction payload."""
    return {"id": store.config.team_id, "domain": store.config.team_domain}


def channel_name(store: Store, channel: str) -> str:
    """The channel's name as payloads carry it (`directmessage` for a DM)."""
    found = store.find_channel(channel)
    if found is None or found.is_im:
        return "directmessage"
    return found.name


def slash(
    store: Store,
    *,
    command: str,
    text: str,
    user: str,
    channel: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    """A `slash_commands` payload (socket_envelope_slash_command.json)."""
    c = store.config
    return {
        "token": c.verification_token,
        "team_id": c.team_id,
        "team_domain": c.team_domain,
        "channel_id": channel,
        "channel_name": channel_name(store, channel),
        "user_id": user,
        "user_name": store.user_name(user),
        "command": command,
        "text": text,
        "api_app_id": c.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def find_element(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    """(block_id, element) for the interactive element with `action_id`; LookupError if none."""
    for block in blocks:
        candidates = list(block.get("elements") or [])
        candidates += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    raise LookupError(f"no element with action_id {action_id!r} in the message")


def action(block_id: str, element: dict[str, Any], selected: Any = None) -> dict[str, Any]:
    """One entry of `actions[]`, copying the fields Slack copies from the element."""
    out: dict[str, Any] = {"action_id": element["action_id"], "block_id": block_id}
    if element.get("type") == "button":
        out["text"] = element.get("text")
        for key in ("value", "style", "url"):
            if key in element:
                out[key] = element[key]
    else:
        options = element.get("options") or [None]
        out["selected_option"] = selected if selected is not None else options[0]
    out["type"] = element.get("type")
    out["action_ts"] = f"{time.time():.6f}"
    return out


def block_actions(
    store: Store,
    *,
    message: Message,
    action_id: str,
    user: str,
    response_url: str,
    trigger_id: str,
    selected: Any = None,
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `block_actions` payload for a click on a stored message (channel or ephemeral)."""
    block_id, element = find_element(message.blocks, action_id)
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": message.channel,
        "is_ephemeral": message.is_ephemeral,
    }
    if message.thread_ts:
        container["thread_ts"] = message.thread_ts
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": user_ref(store, user),
        "api_app_id": store.config.app_id,
        "token": store.config.verification_token,
        "container": container,
        "trigger_id": trigger_id,
        "team": team_ref(store),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": message.channel, "name": channel_name(store, message.channel)},
    }
    if not message.is_ephemeral:
        payload["message"] = message.to_api()
    payload["state"] = {"values": state or {}}
    payload["response_url"] = response_url
    payload["actions"] = [action(block_id, element, selected)]
    return payload


def view_submission(
    store: Store, *, view: View, values: dict[str, Any], user: str, trigger_id: str
) -> dict[str, Any]:
    """A `view_submission` payload carrying `values` as `view.state.values`."""
    body = json.loads(json.dumps(view.view))
    body["state"] = {"values": values}
    return {
        "type": "view_submission",
        "team": team_ref(store),
        "user": user_ref(store, user),
        "api_app_id": store.config.app_id,
        "token": store.config.verification_token,
        "trigger_id": trigger_id,
        "view": body,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_callback(store: Store, event: dict[str, Any], event_id: str) -> dict[str, Any]:
    """An `event_callback` payload (socket_envelope_events_api_app_mention.json)."""
    c = store.config
    now = time.time()
    event = {"ts": f"{now:.6f}", "team": c.team_id, **event}
    event.setdefault("event_ts", event["ts"])
    return {
        "token": c.verification_token,
        "team_id": c.team_id,
        "api_app_id": c.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(now),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": c.team_id,
                "user_id": c.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-emu",
    }


def http_body(envelope: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and headers Slack POSTs in HTTP mode for what socket mode sends as `envelope`."""
    kind, payload = envelope.get("type"), envelope.get("payload") or {}
    headers: dict[str, str] = {}
    if kind == "slash_commands":
        body = urlencode({k: "" if v is None else v for k, v in payload.items()})
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif kind == "interactive":
        body = urlencode({"payload": json.dumps(payload)})
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        body = json.dumps(payload)
        headers["Content-Type"] = "application/json"
    if envelope.get("retry_attempt"):
        headers["X-Slack-Retry-Num"] = str(envelope["retry_attempt"])
        headers["X-Slack-Retry-Reason"] = str(envelope.get("retry_reason") or "")
    return body.encode(), headers


def sign(secret: str, body: bytes, *, valid: bool = True, skew: int = 0) -> dict[str, str]:
    """`X-Slack-Request-Timestamp` and `X-Slack-Signature` (v0 HMAC-SHA256) for `body`.

    `valid=False` signs with the wrong key; `skew` moves the timestamp (seconds, negative = old).
    """
    timestamp = str(int(time.time()) + skew)
    key = secret if valid else secret + "-wrong"
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(key.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + digest}

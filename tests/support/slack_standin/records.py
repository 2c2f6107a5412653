"""Typed records the stand-in hands to tests, and the errors its driver raises.

Records are frozen so a test can keep one while the emulator thread goes on changing its own
state; a changed message is a new record, which is how `emu.history()` keeps every revision.
The dicts inside (blocks, args, payloads) are the emulator's own copies: read them, do not edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    """One revision of a message in a channel, or an ephemeral message shown to one user.

    `via` says how it arrived: `api` (a Web API call), `response_url` (including a slash
    command's ack payload) or `driver` (`emu.add_message`, a person's message).
    """

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    user: str
    bot_id: str | None = None
    app_id: str | None = None
    team: str = ""
    thread_ts: str | None = None
    username: str | None = None
    ephemeral_to: str | None = None
    edited_ts: str | None = None
    deleted: bool = False
    reactions: tuple[str, ...] = ()
    via: str = "api"
    metadata: dict[str, Any] | None = None
    files: tuple[dict[str, Any], ...] = ()

    @property
    def is_ephemeral(self) -> bool:
        """True when only `ephemeral_to` can see the message."""
        return self.ephemeral_to is not None

    def to_api(self, with_metadata: bool = False) -> dict[str, Any]:
        """Render the message as Slack's Web API returns it (see chat_postMessage_ok.json);
        ``metadata`` only when asked for (conversations.history's ``include_all_metadata``)."""
        out: dict[str, Any] = {"type": "message"}
        if self.bot_id:
            out["subtype"] = "bot_message"
        out.update({"text": self.text, "ts": self.ts})
        if self.username:
            out["username"] = self.username
        if self.bot_id:
            out["bot_id"] = self.bot_id
        if self.app_id:
            out["app_id"] = self.app_id
        out.update({"user": self.user, "team": self.team})
        if self.blocks:
            out["blocks"] = self.blocks
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.edited_ts:
            out["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.reactions:
            out["reactions"] = [
                {"name": n, "count": 1, "users": [self.user]} for n in self.reactions
            ]
        if self.files:
            out["files"] = [dict(f) for f in self.files]
        if with_metadata and self.metadata:
            out["metadata"] = self.metadata
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class Call:
    """One request to `/api/{method}` and the HTTP status the emulator answered with.

    `status` is 0 when the emulator dropped the connection without replying.
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    status: int
    t: float
    response: dict[str, Any] | None = None

    @property
    def error(self) -> str | None:
        """The `error` field of the reply, if the reply had one."""
        return None if self.response is None else self.response.get("error")


@dataclass(frozen=True, kw_only=True, slots=True)
class Ack:
    """The bot's answer to one envelope.

    In socket mode it is the ack frame; `payload` is its `payload` key, or None. In HTTP mode
    `status` is the HTTP status and `payload` the parsed body (`{"text": ...}` for a text body).
    """

    envelope_id: str
    payload: dict[str, Any] | None
    latency_ms: float
    status: int = 200


@dataclass(frozen=True, kw_only=True, slots=True)
class Envelope:
    """An envelope the emulator delivered, with when and how its ack arrived."""

    envelope_id: str
    type: str
    body: dict[str, Any]
    sent_at: float
    ack: Ack | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class View:
    """A modal as the emulator holds it; `view` is the object `views.open` returned."""

    id: str
    user: str
    root_view_id: str
    hash: str
    view: dict[str, Any]
    closed: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Hook:
    """One POST to a response_url, with the status the emulator answered."""

    url: str
    kind: str
    body: Any
    status: int
    t: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Frame:
    """One WebSocket text frame the bot sent; `data` is None when it was not JSON."""

    socket: int
    raw: str
    data: dict[str, Any] | None
    t: float


class AckTimeout(AssertionError):
    """The bot did not ack an envelope within the ack timeout (3 s, as Slack).

    An AssertionError because a missing ack is a test failure unless the test expects it.
    """

    def __init__(self, envelope_id: str, timeout: float, reason: str = "no ack") -> None:
        self.envelope_id = envelope_id
        self.timeout = timeout
        self.reason = reason
        super().__init__(f"{reason}: envelope {envelope_id} not acked within {timeout:.1f} s")


class NotConnected(RuntimeError):
    """An envelope was sent in socket mode while no bot socket was open."""

    def __init__(self) -> None:
        super().__init__("no bot WebSocket is connected; call wait_connected() first")

"""The workspace the stand-in pretends to be: channels, people, messages, views, links.

All state sits behind one re-entrant lock so the pytest thread (driver reads) and the
emulator's event-loop thread (Web API writes) can share it; nothing awaits while holding it.
"""

from __future__ import annotations

import dataclasses
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .records import Ack, Call, Envelope, Frame, Hook, Message, View

_ID_CHARS = string.ascii_letters + string.digits
MANIFEST_BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "app_mentions:read",
    "im:history",
    "im:write",
)


def random_id(prefix: str = "", length: int = 10, alphabet: str = _ID_CHARS) -> str:
    """A random identifier such as `V0AB12CD34`, for views, tickets and links."""
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(kw_only=True)
class Config:
    """Who the emulated workspace and app are; fixed for the emulator's lifetime."""

    team_id: str = "T0SELF"
    team_name: str = "selfreg-test"
    team_domain: str = "selfreg-test"
    bot_user_id: str = "U0BOT"
    bot_user_name: str = "selfreg"
    bot_id: str = "B0BOT"
    app_id: str = "A0SELF"
    bot_token: str = "xoxb-test"
    app_token: str = "xapp-1-A0SELF-1-test"
    signing_secret: str = "test-secret"
    verification_token: str = "verification-token"
    chat_write_public: bool = False
    scopes: frozenset[str] = frozenset(MANIFEST_BOT_SCOPES) | {
        "usergroups:read",
        "channels:history",
        "groups:history",
        "files:write",
    }
    ack_timeout: float = 3.0
    trigger_ttl: float = 3.0


@dataclass(kw_only=True)
class Channel:
    """A conversation; `members` holds user IDs, the bot's included when it has joined."""

    id: str
    name: str
    members: set[str] = field(default_factory=set)
    private: bool = False
    archived: bool = False
    is_im: bool = False
    created: int = field(default_factory=lambda: int(time.time()))

    def to_api(self, bot_user_id: str) -> dict[str, Any]:
        """The `conversations.info` channel object."""
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.private and not self.is_im,
            "is_group": self.private,
            "is_im": self.is_im,
            "is_private": self.private or self.is_im,
            "is_archived": self.archived,
            "is_general": False,
            "created": self.created,
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
        }


@dataclass(kw_only=True)
class HookState:
    """A response_url: where it came from, what it may replace and how often it was used."""

    url: str
    kind: str
    channel: str
    user: str
    origin: tuple[str, str] | None = None
    uses: int = 0
    created: float = field(default_factory=time.monotonic)


@dataclass(kw_only=True)
class Trigger:
    """A trigger_id the driver issued: single use, short-lived."""

    user: str
    issued: float = field(default_factory=time.monotonic)
    used: bool = False


class Store:
    """In-memory workspace state; every public method takes the lock."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.RLock()
        self._last_epoch = 0
        self._counter = 0
        self.clear()

    def clear(self) -> None:
        """Forget everything but the config: `emu.reset()` between tests."""
        with self.lock:
            self.channels: dict[str, Channel] = {}
            self.users: dict[str, dict[str, Any]] = {}
            self.usergroups: dict[str, list[str]] = {}
            self.messages: dict[str, dict[str, Message]] = {}
            self.revisions: dict[tuple[str, str], list[Message]] = {}
            self.ephemeral: dict[tuple[str, str], Message] = {}
            self.views: dict[str, View] = {}
            self.triggers: dict[str, Trigger] = {}
            self.hooks: dict[str, HookState] = {}
            self.hook_posts: list[Hook] = []
            self.calls: list[Call] = []
            self.frames: list[Frame] = []
            self.envelopes: dict[str, Envelope] = {}
            self.acks: list[Ack] = []
            self.add_user(self.config.bot_user_id, self.config.bot_user_name, is_bot=True)

    # people and places

    def add_user(self, user_id: str, name: str, *, is_bot: bool = False) -> None:
        """Register a workspace member."""
        with self.lock:
            self.users[user_id] = {"id": user_id, "name": name, "is_bot": is_bot}

    def add_channel(self, channel: Channel) -> None:
        """Register (or replace) a conversation."""
        with self.lock:
            self.channels[channel.id] = channel
            self.messages.setdefault(channel.id, {})

    def find_channel(self, ref: str | None) -> Channel | None:
        """Look a channel up by ID, `#name` or bare name; a user ID opens their DM."""
        if not ref:
            return None
        with self.lock:
            if ref in self.channels:
                return self.channels[ref]
            name = ref.removeprefix("#")
            for channel in self.channels.values():
                if channel.name == name and not channel.is_im:
                    return channel
            if ref in self.users:
                return self._open_im(ref)
        return None

    def _open_im(self, user_id: str) -> Channel:
        im = Channel(id="D" + user_id.removeprefix("U"), name=user_id, is_im=True)
        im.members = {user_id, self.config.bot_user_id}
        self.add_channel(im)
        return im

    def user_name(self, user_id: str) -> str:
        """The user's handle, or the ID itself for someone never added."""
        with self.lock:
            return self.users.get(user_id, {}).get("name", user_id)

    # messages

    def next_ts(self) -> str:
        """`<epoch>.<6-digit counter>`: monotonic and unique across the workspace."""
        with self.lock:
            self._last_epoch = max(self._last_epoch, int(time.time()))
            self._counter += 1
            return f"{self._last_epoch}.{self._counter % 1_000_000:06d}"

    def with_block_ids(self, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Copy blocks, giving each block without one a random 3-5 character block_id."""
        taken = {b.get("block_id") for b in blocks}
        out = []
        for block in blocks:
            block = dict(block)
            if not block.get("block_id"):
                block_id = random_id(length=secrets.choice((3, 4, 5)))
                while block_id in taken:
                    block_id = random_id(length=5)
                taken.add(block_id)
                block["block_id"] = block_id
            out.append(block)
        return out

    def put(self, message: Message) -> Message:
        """Store a new revision of a message (channel or ephemeral) and keep its history."""
        with self.lock:
            key = (message.channel, message.ts)
            if message.is_ephemeral:
                self.ephemeral[key] = message
            else:
                self.messages.setdefault(message.channel, {})[message.ts] = message
            self.revisions.setdefault(key, []).append(message)
            return message

    def revise(self, message: Message, **changes: Any) -> Message:
        """Store `message` with `changes` applied, as a new revision."""
        return self.put(dataclasses.replace(message, **changes))

    def get(self, channel: str, ts: str) -> Message | None:
        """The latest revision of a channel message or an ephemeral one, if it exists."""
        with self.lock:
            found = self.messages.get(channel, {}).get(ts) or self.ephemeral.get((channel, ts))
            return None if found is None or found.deleted else found

    def thread_root(self, channel: str, ts: str) -> str | None:
        """The ts a reply to `ts` belongs under (a reply to a reply joins the same thread)."""
        with self.lock:
            parent = self.messages.get(channel, {}).get(ts)
            if parent is None or parent.deleted:
                return None
            return parent.thread_ts or parent.ts

    # modals and response URLs

    def issue_trigger(self, user: str) -> str:
        """Mint a trigger_id, as Slack does for every slash command and interaction."""
        trigger_id = f"{int(time.time())}.{random_id(length=10, alphabet=string.digits)}."
        trigger_id += random_id(length=32, alphabet="0123456789abcdef")
        with self.lock:
            self.triggers[trigger_id] = Trigger(user=user)
        return trigger_id

    def take_trigger(self, trigger_id: str | None) -> tuple[str | None, Trigger | None]:
        """Spend a trigger: (error code or None, the trigger)."""
        with self.lock:
            trigger = self.triggers.get(trigger_id or "")
            if trigger is None:
                return "invalid_trigger_id", None
            if trigger.used:
                return "exchanged_trigger_id", trigger
            if time.monotonic() - trigger.issued > self.config.trigger_ttl:
                return "expired_trigger_id", trigger
            trigger.used = True
            return None, trigger

    def expire_triggers(self) -> None:
        """Age every issued trigger past its time-to-live."""
        with self.lock:
            for trigger in self.triggers.values():
                trigger.issued -= self.config.trigger_ttl + 1

    def new_hook(self, base: str, kind: str, channel: str, user: str, origin=None) -> str:
        """Mint a response_url under `base` (`http://127.0.0.1:<port>`)."""
        hook_id = random_id(length=24)
        url = f"{base}/hooks/{kind}/{self.config.team_id}/{hook_id}"
        with self.lock:
            self.hooks[hook_id] = HookState(
                url=url, kind=kind, channel=channel, user=user, origin=origin
            )
        return url

"""`SlackEmulator`: the synchronous, thread-safe driver tests use instead of Slack.

The server runs on its own event loop in a daemon thread, so a bot under test (in process on
pytest's loop, or a subprocess) never shares a loop with it. Driver calls that do I/O hop onto
that loop with `asyncio.run_coroutine_threadsafe`; reads take the store's lock and return
frozen records. From async tests, call the blocking methods through `run_in_executor`.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from . import payloads, shapes
from .faults import FaultBook, Predicate
from .records import Ack, Call, Envelope, Frame, Hook, Message, View
from .server import HttpOptions, SlackServer
from .store import MANIFEST_BOT_SCOPES, Channel, Config, Store, random_id

log = logging.getLogger(__name__)

T = TypeVar("T")


class SlackEmulator:
    """A local Slack: Web API, socket mode and response URLs on 127.0.0.1, all in memory."""

    def __init__(
        self,
        *,
        team_id: str = "T0SELF",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0SELF",
        bot_token: str = "xoxb-test",
        app_token: str = "xapp-1-A0SELF-1-test",
        signing_secret: str = "test-secret",
        chat_write_public: bool = False,
        scopes: Iterable[str] = (
            *MANIFEST_BOT_SCOPES,
            "usergroups:read",
            "channels:history",
            "groups:history",
            "files:write",
        ),
        ack_timeout: float = 3.0,
        trigger_ttl: float = 3.0,
    ) -> None:
        self.config = Config(
            team_id=team_id,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            bot_token=bot_token,
            app_token=app_token,
            signing_secret=signing_secret,
            chat_write_public=chat_write_public,
            scopes=frozenset(scopes),
            ack_timeout=ack_timeout,
            trigger_ttl=trigger_ttl,
        )
        self.store = Store(self.config)
        self.faults = FaultBook()
        self._server = SlackServer(self.store, self.faults)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # lifecycle

    @property
    def root_url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The Web API base for `SLACK_API_URL` / `AsyncWebClient(base_url=...)`."""
        return f"{self.root_url}/api/"

    def start(self) -> SlackEmulator:
        """Bind 127.0.0.1 on an ephemeral port and serve from a daemon thread."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=_run_forever, args=(loop,), name="slack-standin", daemon=True
        )
        self._thread.start()
        self._call(self._start_async(), timeout=10)
        log.info("slack stand-in listening on %s", self.root_url)
        return self

    async def _start_async(self) -> None:
        # a stalled handler (delay_reply) must not hold the stop for aiohttp's default minute
        runner = web.AppRunner(
            self._server.app(), access_log=None, handle_signals=False, shutdown_timeout=2
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        self._server.base = self.root_url
        self._server.session = aiohttp.ClientSession()

    def stop(self) -> None:
        """Close sockets (1 s each), cancel emulator tasks, clean up, stop the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self._stop_async(), timeout=15)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            self._loop = self._thread = None

    async def _stop_async(self) -> None:
        await self._server.shutdown()
        if self._runner is not None:
            await self._runner.shutdown()
            await self._runner.cleanup()
        me = asyncio.current_task()
        leftovers = [t for t in asyncio.all_tasks() if t is not me]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    def reset(self) -> None:
        """Forget all data, faults and bookkeeping; open sockets and HTTP mode are kept."""
        self.store.clear()
        self.faults.clear()
        self._server.forget()

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the emulator loop and wait for its result from this thread."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("the Slack stand-in is not started")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("driver methods that do I/O cannot run on the emulator's loop")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout if timeout is not None else self.config.ack_timeout + 5)

    # workspace set-up

    def add_user(self, user_id: str, name: str | None = None) -> None:
        """Add a workspace member."""
        self.store.add_user(user_id, name or user_id.lower())

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        members: Iterable[str] = (),
        private: bool = False,
        archived: bool = False,
    ) -> None:
        """Add (or replace) a channel; the bot is a member only if listed in `members`."""
        channel = Channel(
            id=channel_id,
            name=name or channel_id.lower(),
            members=set(members),
            private=private,
            archived=archived,
        )
        self.store.add_channel(channel)

    def add_usergroup(self, group_id: str, users: Iterable[str]) -> None:
        """Add a user group (approvers may be groups) for `usergroups.users.list`."""
        with self.store.lock:
            self.store.usergroups[group_id] = list(users)

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> Message:
        """Store a message a person wrote (the bot may not update it)."""
        found = self._channel(channel)
        message = Message(
            channel=found,
            ts=self.store.next_ts(),
            text=text,
            blocks=self.store.with_block_ids(blocks or []),
            user=user,
            team=self.config.team_id,
            thread_ts=thread_ts,
            via="driver",
        )
        return self.store.put(message)

    def issue_trigger(self, user: str) -> str:
        """A fresh trigger_id, as if `user` had just clicked something."""
        return self.store.issue_trigger(user)

    def expire_triggers(self) -> None:
        """Make every trigger_id issued so far expired (no need to sleep 3 s)."""
        self.store.expire_triggers()

    def _channel(self, ref: str) -> str:
        found = self.store.find_channel(ref)
        return found.id if found else ref

    # inbound: Slack -> bot

    def slash(
        self, command: str, text: str = "", *, user: str, channel: str, **signing: Any
    ) -> Ack:
        """Deliver a slash command; returns the Ack or raises AckTimeout."""
        channel = self._channel(channel)
        response_url = self.store.new_hook(self.root_url, "commands", channel, user)
        payload = payloads.slash(
            self.store,
            command=command,
            text=text,
            user=user,
            channel=channel,
            response_url=response_url,
            trigger_id=self.store.issue_trigger(user),
        )
        envelope = shapes.envelope(str(uuid.uuid4()), "slash_commands", payload, True)
        self._server.remember_hook(envelope["envelope_id"], response_url)
        return self._deliver(envelope, signing)

    def click(
        self,
        channel: str,
        ts: str,
        action_id: str,
        *,
        user: str,
        selected: Any = None,
        state: dict[str, Any] | None = None,
        **signing: Any,
    ) -> Ack:
        """Click the element `action_id` on the stored message (channel, ts)."""
        message = self.store.get(self._channel(channel), ts)
        if message is None:
            raise LookupError(f"no message {ts} in {channel}")
        return self._click(message, action_id, user, selected, state, signing)

    def click_revision(self, message: Message, action_id: str, *, user: str, **signing: Any) -> Ack:
        """Click `action_id` on an earlier revision of a message: a client not yet refreshed
        (or a message record a test made, such as one in another channel)."""
        return self._click(message, action_id, user, None, None, signing)

    def click_ephemeral(
        self, channel: str, user: str, message_ts: str, action_id: str, **signing: Any
    ) -> Ack:
        """Click an element on the ephemeral message `user` sees."""
        message = self.store.get(self._channel(channel), message_ts)
        if message is None or message.ephemeral_to != user:
            raise LookupError(f"no ephemeral message {message_ts} for {user} in {channel}")
        return self._click(message, action_id, user, None, None, signing)

    def _click(
        self,
        message: Message,
        action_id: str,
        user: str,
        selected: Any,
        state: dict[str, Any] | None,
        signing: dict[str, Any],
    ) -> Ack:
        origin = (message.channel, message.ts)
        response_url = self.store.new_hook(self.root_url, "actions", message.channel, user, origin)
        payload = payloads.block_actions(
            self.store,
            message=message,
            action_id=action_id,
            user=user,
            response_url=response_url,
            trigger_id=self.store.issue_trigger(user),
            selected=selected,
            state=state,
        )
        envelope = shapes.envelope(str(uuid.uuid4()), "interactive", payload, False)
        return self._deliver(envelope, signing)

    def submit_view(
        self,
        view_id: str,
        values: dict[str, Any] | None = None,
        *,
        user: str | None = None,
        **signing: Any,
    ) -> Ack:
        """Submit an open modal with `values` as its `state.values`."""
        view = self.store.views.get(view_id)
        if view is None or view.closed:
            raise LookupError(f"no open view {view_id}")
        user = user or view.user
        payload = payloads.view_submission(
            self.store,
            view=view,
            values=values or {},
            user=user,
            trigger_id=self.store.issue_trigger(user),
        )
        envelope = shapes.envelope(str(uuid.uuid4()), "interactive", payload, True)
        return self._deliver(envelope, signing)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        **signing: Any,
    ) -> Ack:
        """Deliver an Events API event (e.g. `{"type": "app_mention", ...}`)."""
        payload = payloads.event_callback(self.store, event, event_id or random_id("Ev", 10))
        envelope = shapes.events_envelope(str(uuid.uuid4()), payload, retry_attempt, retry_reason)
        return self._deliver(envelope, signing)

    def send_envelope(
        self, raw: dict[str, Any], *, wait: bool = True, **signing: Any
    ) -> Ack | None:
        """Deliver an envelope verbatim (retry_* fields kept); wait for its ack if asked."""
        return self._deliver(copy.deepcopy(raw), signing, wait=wait)

    def redeliver(
        self, envelope_id: str, retry_attempt: int = 1, retry_reason: str = "timeout"
    ) -> Ack:
        """Deliver an earlier envelope again, under a new envelope_id, with retry fields."""
        with self.store.lock:
            original = self.store.envelopes[envelope_id].body
        again = copy.deepcopy(original)
        again.update(
            envelope_id=str(uuid.uuid4()), retry_attempt=retry_attempt, retry_reason=retry_reason
        )
        return self._deliver(again, {})

    def ssl_check(self) -> Ack:
        """HTTP mode only: Slack's `ssl_check=1` probe, which the bot must ack."""
        envelope = {
            "envelope_id": str(uuid.uuid4()),
            "type": "ssl_check",
            "payload": {"ssl_check": "1", "token": self.config.verification_token},
        }
        return self._deliver(envelope, {})

    def _deliver(self, envelope: dict[str, Any], signing: dict[str, Any], wait: bool = True):
        coro = self._server.deliver(envelope, wait=wait, http=HttpOptions(**signing))
        return self._call(coro)

    def send_frame(self, raw: dict[str, Any] | str) -> None:
        """Send any frame on the current socket: hello, disconnect, or garbage text."""
        self._call(self._server.send_raw(raw))

    # sockets

    def use_http(self, url: str | None) -> None:
        """Deliver inbound traffic by signed POST to `url` (None: back to socket mode)."""
        self._server.http_url = url

    def wait_connected(self, timeout: float = 5.0) -> None:
        """Block until a bot socket is open and not told to disconnect."""
        self.wait_for(lambda: self._server.current() is not None, timeout=timeout)

    def connection_count(self) -> int:
        """Open bot sockets, including ones draining after a disconnect frame."""
        return self._server.open_count()

    def connections_opened(self) -> int:
        """Sockets opened since start, closed ones included."""
        with self.store.lock:
            return len(self._server.sockets)

    def http_connections(self) -> int:
        """TCP connections that carried an HTTP request since start (keep-alive counts once)."""
        return self._server.connections_accepted

    def disconnect(self, reason: str = "refresh_requested", close_after: float = 0.5) -> None:
        """Send `{"type": "disconnect", "reason": ...}`, then close that socket later."""
        self._call(self._server.disconnect(reason, close_after))

    def drop_socket(self) -> None:
        """Cut the current socket abruptly: no disconnect frame, no close handshake."""
        self._call(self._server.drop_socket())

    def withhold_hello(self, times: int = 1) -> None:
        """The next `times` sockets get no hello frame."""
        self._server.hold_hello = times

    # faults

    def fail(
        self,
        method: str,
        error: str | None = None,
        *,
        status: int = 200,
        retry_after: int = 1,
        drop_connection: bool = False,
        times: int | None = 1,
        when: Predicate | None = None,
    ) -> None:
        """Make the next `times` matching calls of `method` fail ("*" matches any method)."""
        self.faults.fail(
            method,
            error=error,
            status=status,
            retry_after=retry_after,
            drop_connection=drop_connection,
            times=times,
            when=when,
        )

    def delay(self, method: str, seconds: float, times: int | None = None) -> None:
        """Add latency to `method` ("*": every method)."""
        self.faults.delay(method, seconds, times)

    def delay_reply(self, method: str, seconds: float, times: int | None = None) -> None:
        """Do what `method` asks at once, but answer `seconds` later."""
        self.faults.delay_reply(method, seconds, times)

    def rate_limit(
        self, method: str, per_channel_per_sec: float = 1.0, burst: int = 1, status: int = 429
    ) -> None:
        """Token bucket per (method, channel): 429 + Retry-After, or `rate_limited` on 200."""
        self.faults.rate_limit(method, per_channel_per_sec, burst, status)

    # outbound: what the bot did

    def messages(self, channel: str) -> list[Message]:
        """Channel messages and thread replies, oldest first (not ephemeral, not deleted)."""
        with self.store.lock:
            found = self.store.messages.get(self._channel(channel), {}).values()
            return sorted((m for m in found if not m.deleted), key=_ts_key)

    def message(self, channel: str, ts: str) -> Message | None:
        """The latest revision of one message (channel or ephemeral)."""
        return self.store.get(self._channel(channel), ts)

    def uploaded(self, file_id: str) -> bytes | None:
        """The bytes POSTed for a file of Slack's upload flow (None: not uploaded)."""
        with self.store.lock:
            found = self._server.api.uploads.get(file_id)
            return None if found is None else found["data"]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The replies under `ts` (the parent itself is not included)."""
        return [m for m in self.messages(channel) if m.thread_ts == ts and m.ts != ts]

    def history(self, channel: str, ts: str) -> list[Message]:
        """Every revision of a message: the post, then each update, oldest first."""
        with self.store.lock:
            return list(self.store.revisions.get((self._channel(channel), ts), []))

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Message]:
        """Ephemeral messages, optionally for one channel and/or one user."""
        wanted = self._channel(channel) if channel else None
        with self.store.lock:
            return [
                m
                for m in self.store.ephemeral.values()
                if not m.deleted
                and (wanted is None or m.channel == wanted)
                and (user is None or m.ephemeral_to == user)
            ]

    def views(self) -> list[View]:
        """Every modal opened, pushed or updated (latest state of each)."""
        with self.store.lock:
            return list(self.store.views.values())

    def hooks(self) -> list[Hook]:
        """Every POST to a response_url, in order."""
        with self.store.lock:
            return list(self.store.hook_posts)

    def calls(self, method: str | None = None) -> list[Call]:
        """Every Web API request (of one method, if given), in order."""
        with self.store.lock:
            return [c for c in self.store.calls if method is None or c.method == method]

    def acks(self) -> list[Ack]:
        """Every ack received, in arrival order."""
        with self.store.lock:
            return list(self.store.acks)

    def envelopes(self) -> list[Envelope]:
        """Every envelope delivered, with its ack if one came."""
        with self.store.lock:
            return list(self.store.envelopes.values())

    def unacked(self) -> list[Envelope]:
        """Envelopes not acked (or not answered 200) within the ack timeout."""
        limit = self.config.ack_timeout
        now = time.monotonic()
        return [
            e
            for e in self.envelopes()
            if (e.ack is None and now - e.sent_at >= limit)
            or (e.ack is not None and (e.ack.status != 200 or e.ack.latency_ms > limit * 1000))
        ]

    def frames(self) -> list[Frame]:
        """Every text frame the bot sent on any socket."""
        with self.store.lock:
            return list(self.store.frames)

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 2.0, interval: float = 0.01
    ) -> T:
        """Poll `predicate` until it returns something truthy; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout:.1f} s")
            time.sleep(interval)

    def wait_for_call(
        self, method: str, timeout: float = 2.0, *, count: int = 1, where: Predicate | None = None
    ) -> Call:
        """Wait until `method` was called `count` times (matching `where`); the last call."""

        def matching() -> list[Call]:
            return [c for c in self.calls(method) if where is None or where(c.args)]

        return self.wait_for(lambda: len(matching()) >= count and matching()[-1], timeout)


def _ts_key(message: Message) -> tuple[int, ...]:
    """Sort key for `<epoch>.<counter>` timestamps without float rounding."""
    return tuple(int(part) for part in message.ts.split("."))


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

"""The stand-in's aiohttp application: Web API, socket-mode WebSocket and response_url sink.

Everything here runs on the emulator's own event loop. Inbound traffic (Slack -> bot) goes out
through `deliver()`, over the current WebSocket or, in HTTP mode, as a signed POST.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
import weakref
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from aiohttp import web

from . import payloads, shapes
from .faults import FaultBook, Outcome, ratelimited
from .records import Ack, AckTimeout, Call, Envelope, Frame, Hook, NotConnected
from .store import HookState, Store
from .webapi import ApiError, WebApi

log = logging.getLogger(__name__)

HOOK_MAX_USES = 5
HOOK_TTL = 30 * 60


@dataclass(kw_only=True)
class Socket:
    """One bot WebSocket; `draining` after a disconnect frame, until it closes."""

    id: int
    ws: web.WebSocketResponse
    request: web.Request
    opened: float = field(default_factory=time.monotonic)
    draining: bool = False
    closed: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class HttpOptions:
    """How an inbound request is signed in HTTP mode (to provoke the bot's 401s)."""

    sign: bool = True
    timestamp_skew: int = 0
    tamper: bool = False


class SlackServer:
    """Routes, socket bookkeeping and delivery; the driver reaches it through the loop."""

    def __init__(self, store: Store, faults: FaultBook) -> None:
        self.store = store
        self.faults = faults
        self.api = WebApi(store, self._mint_socket_url, lambda: self.base)
        self.base = ""
        self.http_url: str | None = None
        self.session: aiohttp.ClientSession | None = None
        self.tickets: dict[str, bool] = {}
        self.sockets: list[Socket] = []
        self.hold_hello = 0
        self.tasks: set[asyncio.Task[Any]] = set()
        self._waiters: dict[str, asyncio.Future[Ack]] = {}
        self._envelope_hooks: dict[str, str] = {}
        self.connections_accepted = 0  # TCP connections that carried a request, since start
        self._transports: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()

    def forget(self) -> None:
        """Drop per-test bookkeeping; sockets, tickets and HTTP mode stay as they are."""
        self.hold_hello = 0
        self._envelope_hooks.clear()

    def app(self) -> web.Application:
        """The aiohttp application with every route of SLACK-STANDIN.md."""
        app = web.Application(middlewares=[self._count_connection])
        app.router.add_route("*", "/api/{method}", self.handle_api)
        app.router.add_get("/link", self.handle_link)
        app.router.add_get("/link/", self.handle_link)
        app.router.add_post("/hooks/{kind}/{team}/{hook_id}", self.handle_hook)
        app.router.add_post("/upload/{file_id}", self.handle_upload)
        return app

    @web.middleware
    async def _count_connection(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Count each TCP connection once, at its first request (keep-alive reuses it)."""
        transport = request.transport
        if transport is not None and transport not in self._transports:
            self._transports.add(transport)
            self.connections_accepted += 1
        return await handler(request)

    async def handle_upload(self, request: web.Request) -> web.Response:
        """The upload URL ``files.getUploadURLExternal`` hands out: takes the file's bytes."""
        data = await request.read()
        if not self.api.receive_upload(request.match_info["file_id"], data):
            return web.Response(status=404, text="unknown file")
        return web.Response(text=f"OK - {len(data)}")

    # Web API

    async def handle_api(self, request: web.Request) -> web.StreamResponse:
        """`/api/{method}`: delay, faults, unknown method, auth, limiter, then the method."""
        method = request.match_info["method"]
        args = await _read_args(request)
        header_token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = header_token or args.pop("token", None)
        args.pop("token", None)
        delay = self.faults.delay_for(method)
        if delay:
            await asyncio.sleep(delay)
        outcome = self.faults.fault_for(method, args) or self._gate(method, token, args)
        if outcome is not None and outcome.drop:
            self._record(method, args, request, 0, None)
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)
        if outcome is None:
            outcome = self._run(method, args)
            if reply_delay := self.faults.delay_for(method, reply=True):
                await asyncio.sleep(reply_delay)
        self._record(method, args, request, outcome.status, outcome.body)
        return web.json_response(outcome.body, status=outcome.status, headers=outcome.headers)

    def _gate(self, method: str, token: str | None, args: dict[str, Any]) -> Outcome | None:
        """Refuse calls Slack would refuse before looking at the arguments."""
        c = self.store.config
        if method not in self.api.methods:
            return Outcome(status=200, body=shapes.error("unknown_method", req_method=method))
        if token and "ratelimited" in token:
            return ratelimited(1)
        if not token:
            return Outcome(status=200, body=shapes.error("not_authed"))
        if token not in (c.bot_token, c.app_token):
            return Outcome(status=200, body=shapes.error("invalid_auth"))
        if (method == "apps.connections.open") != (token == c.app_token):
            return Outcome(status=200, body=shapes.error("not_allowed_token_type"))
        return self.faults.limit_for(method, args)

    def _run(self, method: str, args: dict[str, Any]) -> Outcome:
        try:
            return Outcome(status=200, body=self.api.call(method, args))
        except ApiError as exc:
            return Outcome(status=200, body=exc.body)

    def _record(
        self,
        method: str,
        args: dict[str, Any],
        request: web.Request,
        status: int,
        body: dict[str, Any] | None,
    ) -> None:
        call = Call(
            method=method,
            args=args,
            headers=dict(request.headers),
            status=status,
            t=time.time(),
            response=body,
        )
        with self.store.lock:
            self.store.calls.append(call)
        log.debug("api %s -> %s %s", method, status, (body or {}).get("error", "ok"))

    def _mint_socket_url(self) -> str:
        ticket = str(uuid.uuid4())
        self.tickets[ticket] = False
        ws_base = self.base.replace("http://", "ws://", 1)
        return f"{ws_base}/link?ticket={ticket}&app_id={self.store.config.app_id}"

    # socket mode

    async def handle_link(self, request: web.Request) -> web.StreamResponse:
        """`/link?ticket=`: single-use tickets, hello first, every frame recorded."""
        ticket = request.query.get("ticket", "")
        if self.tickets.get(ticket, True):
            raise web.HTTPUnauthorized(text="invalid_ticket")
        self.tickets[ticket] = True
        ws = web.WebSocketResponse(autoping=True, timeout=1.0)
        await ws.prepare(request)
        sock = Socket(id=len(self.sockets) + 1, ws=ws, request=request)
        with self.store.lock:
            self.sockets.append(sock)
        if self.hold_hello > 0:
            self.hold_hello -= 1
        else:
            await ws.send_str(json.dumps(shapes.hello(self.open_count(), self.store.config.app_id)))
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self._on_frame(sock, msg.data)
        finally:
            sock.closed = True
            log.debug("socket %s closed", sock.id)
        return ws

    def open_count(self) -> int:
        """How many bot sockets are open, draining ones included."""
        with self.store.lock:
            return sum(1 for s in self.sockets if not s.closed)

    def current(self) -> Socket | None:
        """The socket new envelopes go to: the newest open one not told to disconnect."""
        with self.store.lock:
            live = [s for s in self.sockets if not s.closed and not s.draining]
        return live[-1] if live else None

    def _on_frame(self, sock: Socket, raw: str) -> None:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        data = data if isinstance(data, dict) else None
        with self.store.lock:
            self.store.frames.append(Frame(socket=sock.id, raw=raw, data=data, t=time.time()))
        if data and data.get("envelope_id"):
            self._on_ack(str(data["envelope_id"]), data.get("payload"), 200)

    def _on_ack(self, envelope_id: str, payload: Any, status: int) -> Ack:
        with self.store.lock:
            envelope = self.store.envelopes.get(envelope_id)
            sent = envelope.sent_at if envelope else time.monotonic()
            ack = Ack(
                envelope_id=envelope_id,
                payload=payload,
                latency_ms=(time.monotonic() - sent) * 1000,
                status=status,
            )
            self.store.acks.append(ack)
            if envelope is not None:
                self.store.envelopes[envelope_id] = replace(envelope, ack=ack)
        waiter = self._waiters.get(envelope_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(ack)
        if envelope is not None and status == 200:
            self._apply_ack(envelope, payload)
        return ack

    def _apply_ack(self, envelope: Envelope, payload: Any) -> None:
        """Show what an ack carries, as Slack does: a slash reply or a view response_action."""
        hook = self.store.hooks.get(self._envelope_hooks.get(envelope.envelope_id, ""))
        body = envelope.body.get("payload") or {}
        if envelope.type == "slash_commands" and hook and isinstance(payload, dict):
            if payload.get("text") or payload.get("blocks"):
                self._respond(hook, payload)
        elif body.get("type") == "view_submission":
            self._apply_view_response(body, payload if isinstance(payload, dict) else {})

    def _apply_view_response(self, body: dict[str, Any], payload: dict[str, Any]) -> None:
        action = payload.get("response_action")
        view = body.get("view")
        view_id = view.get("id") if isinstance(view, dict) else None  # a fuzzed body may lack it
        if not isinstance(view_id, str):
            return
        with self.store.lock:
            view = self.store.views.get(view_id)
            if view is None or action in ("errors", "push"):
                return
            if action == "update" and isinstance(payload.get("view"), dict):
                with contextlib.suppress(ApiError):
                    self.api.views_update({"view_id": view_id, "view": payload["view"]})
                return
            closing = [v for v in self.store.views.values() if v.root_view_id == view.root_view_id]
            for v in closing if action == "clear" else [view]:
                self.store.views[v.id] = replace(v, closed=True)

    # inbound delivery

    def remember_hook(self, envelope_id: str, url: str) -> None:
        """Tie a response_url to the envelope that carried it (for slash ack replies)."""
        self._envelope_hooks[envelope_id] = url.rsplit("/", 1)[-1]

    async def deliver(
        self, envelope: dict[str, Any], *, wait: bool, http: HttpOptions
    ) -> Ack | None:
        """Send one envelope; wait for its ack unless told not to. AckTimeout after 3 s."""
        envelope_id = str(envelope.get("envelope_id") or "")
        record = Envelope(
            envelope_id=envelope_id,
            type=str(envelope.get("type")),
            body=envelope,
            sent_at=time.monotonic(),
        )
        with self.store.lock:
            self.store.envelopes[envelope_id] = record
        if self.http_url:
            return await self._deliver_http(envelope_id, envelope, http)
        sock = self.current()
        if sock is None:
            raise NotConnected()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[envelope_id] = waiter
        try:
            await sock.ws.send_str(json.dumps(envelope))
            if not wait or not envelope_id:
                return None
            timeout = self.store.config.ack_timeout
            try:
                return await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                raise AckTimeout(envelope_id, timeout) from None
        finally:
            self._waiters.pop(envelope_id, None)

    async def _deliver_http(self, envelope_id: str, envelope: dict[str, Any], opts: HttpOptions):
        body, headers = payloads.http_body(envelope)
        headers.update(
            payloads.sign(
                self.store.config.signing_secret,
                body,
                valid=opts.sign,
                skew=opts.timestamp_skew,
            )
        )
        if opts.tamper:
            form = headers["Content-Type"].startswith("application/x-www-form-urlencoded")
            body += b"&tampered=1" if form else b" "
        timeout = self.store.config.ack_timeout
        assert self.session is not None and self.http_url is not None
        try:
            async with self.session.post(
                self.http_url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                text = await resp.text()
                status = resp.status
        except TimeoutError:
            raise AckTimeout(envelope_id, timeout, "operation_timeout") from None
        return self._on_ack(envelope_id, _parse_ack_body(text), status)

    async def send_raw(self, frame: dict[str, Any] | str) -> None:
        """Send any frame (hello, disconnect, garbage) on the current socket."""
        sock = self.current()
        if sock is None:
            raise NotConnected()
        await sock.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    async def disconnect(self, reason: str, close_after: float) -> None:
        """Send a disconnect frame, then close that socket after `close_after` seconds."""
        sock = self.current()
        if sock is None:
            raise NotConnected()
        frame = shapes.disconnect(reason, self.open_count(), self.store.config.app_id)
        sock.draining = True
        await sock.ws.send_str(json.dumps(frame))
        self.spawn(self._close_later(sock, close_after))

    async def _close_later(self, sock: Socket, delay: float) -> None:
        await asyncio.sleep(delay)
        await _close_socket(sock)

    async def drop_socket(self) -> None:
        """Cut the current socket's TCP connection: no disconnect frame, no close frame."""
        sock = self.current()
        if sock is None:
            raise NotConnected()
        sock.draining = True
        transport = sock.request.transport
        if transport is not None:
            transport.abort()

    def spawn(self, coro: Any) -> None:
        """Run a background task that stop() will cancel."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def shutdown(self) -> None:
        """Cancel background tasks, force-close every socket (1 s each), close the session."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(_close_socket(s) for s in self.sockets), return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    # response_url

    async def handle_hook(self, request: web.Request) -> web.Response:
        """A response_url POST: 5 uses within 30 minutes, then 404 `expired_url`."""
        hook = self.store.hooks.get(request.match_info["hook_id"])
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        if hook is None:
            status, text = 404, "no_such_url"
        elif hook.uses >= HOOK_MAX_USES or time.monotonic() - hook.created > HOOK_TTL:
            status, text = 404, "expired_url"
        elif not isinstance(body, dict):
            status, text = 400, "invalid_payload"
        else:
            status, text = self._respond(hook, body)
            if status == 200:
                hook.uses += 1
        kind = request.match_info["kind"]
        entry = Hook(url=str(request.url), kind=kind, body=body, status=status, t=time.time())
        with self.store.lock:
            self.store.hook_posts.append(entry)
        if status == 200:
            return web.json_response({"ok": True})
        return web.Response(status=status, text=text)

    def _respond(self, hook: HookState, body: dict[str, Any]) -> tuple[int, str]:
        """Apply delete_original / replace_original / response_type to the conversation."""
        with self.store.lock:
            origin = self.store.get(*hook.origin) if hook.origin else None
            if body.get("delete_original"):
                if origin is None:
                    return 404, "message_not_found"
                self.store.revise(origin, deleted=True)
                return 200, "ok"
            try:
                text, blocks = self.api.content(body, current=None)
            except ApiError as exc:
                return 400, exc.body["error"]
            if body.get("replace_original") and origin is not None:
                self.store.revise(origin, text=text, blocks=blocks, edited_ts=self.store.next_ts())
                return 200, "ok"
            extra: dict[str, Any] = {"via": "response_url"}
            if body.get("response_type") != "in_channel":
                extra["ephemeral_to"] = hook.user
            thread_ts = body.get("thread_ts")
            if thread_ts:
                extra["thread_ts"] = self.store.thread_root(hook.channel, thread_ts) or thread_ts
            message = self.store.put(self.api.bot_message(hook.channel, text, blocks, **extra))
            if hook.origin is None:
                hook.origin = (message.channel, message.ts)
            return 200, "ok"


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Arguments from the query string plus a JSON or form body, as Slack accepts them."""
    args: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args
    if request.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = json.loads(await request.text() or "{}")
            if isinstance(body, dict):
                args.update(body)
    else:
        args.update(dict(await request.post()))
    return args


def _parse_ack_body(text: str) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return {"text": text}
    return body if isinstance(body, dict) else {"text": text}


async def _close_socket(sock: Socket) -> None:
    if sock.closed or sock.ws.closed:
        sock.closed = True
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(sock.ws.close(code=aiohttp.WSCloseCode.GOING_AWAY), 1.0)
    sock.closed = True

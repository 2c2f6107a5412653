"""The Bolt app: the ``/selfreg`` command, the incident buttons, socket and HTTP transport.

Listeners are thin: ack first (with the reply, when it is ready within Slack's 3 seconds),
one engine call, one reply. A click carries only an incident id; it must come from that
incident's own message and the incident must still be open, or the clicker is told why
nothing changed. Socket mode is watched: a connection that stays down is rebuilt with
back-off, and ``link_disabled`` is never retried in a hot loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMessage, web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.config import SlackConnection
from bot.engine.alerting import Alerting
from bot.engine.remediation import Remediation
from bot.errors import BadCommand, UserError
from bot.records import Incident
from bot.slack import payloads, render, views
from bot.slack.commands import Commands, parse
from bot.slack.plan import pause_action, quiet_listener
from bot.store import incidents as rows
from bot.store import predictions, proposals
from bot.store.db import Store

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp

    from bot.engine.predict import Predictor  # scikit-learn: only when [models] is on
    from bot.engine.regulate.make import Regulation
    from bot.slack.charts import ChartPoster

log = logging.getLogger(__name__)

WATCH_EVERY = 10.0
MAX_BACKOFF = 300.0


class SlackApp:
    """Bolt wired to selfreg: commands, buttons, and the chosen transport.

    Bolt (with its adapters, about 7 MB of imports) is built when first needed: at start in
    socket mode, at the first request in HTTP mode, so a selfreg nobody clicks holds none of it.
    """

    def __init__(
        self,
        connection: SlackConnection,
        client: AsyncWebClient,
        commands: Commands,
        alerting: Alerting,
        store: Store,
        remediation: Remediation | None = None,
        supervisor: Any = None,
        predictor: Predictor | None = None,
        regulation: Regulation | None = None,
        charts: ChartPoster | None = None,
    ) -> None:
        self.regulation = regulation  # None unless [[regulate.scale]] rules exist
        self.charts = charts  # None: no Show chart button handler (tests without one)
        self.supervisor = supervisor
        self.remediation = remediation
        self.predictor = predictor  # None unless [models] turns a model on
        self.connection = connection
        self.client = client
        self.commands = commands
        self.alerting = alerting
        self.store = store
        self._app: AsyncApp | None = None
        self.handler: AsyncSocketModeHandler | None = None
        self.connected = False
        self.last_disconnect: str | None = None
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def app(self) -> AsyncApp:
        """The Bolt app with every listener, built (and slack_bolt imported) on first use."""
        if self._app is None:
            from slack_bolt.async_app import AsyncApp

            self._app = AsyncApp(
                client=self.client,
                signing_secret=self.connection.signing_secret or "",
                request_verification_enabled=self.connection.mode == "http",
                logger=logging.getLogger("slack_bolt"),
            )
            self._register()
        return self._app

    # ---- listeners ------------------------------------------------------------------------
    def _register(self) -> None:
        from bot.slack import guard  # Bolt's middleware and error handler: with Bolt only

        self.app.error(guard.on_error)
        self.app.middleware(guard.well_formed)
        self.app.command("/selfreg")(self._on_command)
        self.app.action(render.ACK)(self._button(self._ack))
        self.app.action(render.SILENCE_HOUR)(self._button(self._silence_hour))
        self.app.action(render.SILENCE_RESOLVED)(self._button(self._silence_resolved))
        self.app.action(render.UNSILENCE)(self._button(self._unsilence))
        self.app.action(render.RUNBOOK)(self._on_link)
        self.app.action(render.SHOW_CHART)(self._on_show_chart)
        self.app.action(render.RESTART_ANYWAY)(self._button(self._restart_anyway))
        self.app.action(render.KEEP_STOPPED)(self._button(self._keep_stopped))
        self.app.action(re.compile(rf"^{re.escape(render.APPROVE_PREFIX)}\d+$"))(self._on_approve)
        self.app.action(re.compile(rf"^{re.escape(render.DENY_PREFIX)}\d+$"))(self._on_deny)
        self.app.view(views.DENY_VIEW)(self._on_deny_submitted)
        self.app.action(render.USEFUL)(self._button(self._useful))
        self.app.action(render.FALSE_ALARM)(self._button(self._false_alarm))
        self.app.action(render.PAUSE_REGULATION)(self._button(pause_action(self.regulation)))
        quiet = re.compile(rf"^{re.escape(render.QUIET_PREFIX)}\d+$")
        self.app.action(quiet)(quiet_listener(self.regulation, self._proposal_refusal))

    async def _on_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        user = command.get("user_id", "")
        try:
            parsed = parse(command.get("text", ""))
        except BadCommand as exc:
            reply = views.help_view(str(exc))
            await ack(response_type="ephemeral", blocks=reply.blocks, text=reply.text)
            return
        if not await self.commands.allowed(parsed, user):
            await ack(response_type="ephemeral", text=messages.not_allowed(parsed.name))
            return
        if parsed.name == "health":
            await ack(
                response_type="ephemeral",
                text=messages.health_started(len(self.commands.status()["checks"])),
            )
            reply = await self.commands.run(parsed, user)
            await respond(
                response_type="ephemeral",
                blocks=reply.blocks,
                text=reply.text,
                replace_original=False,
            )
            return
        reply = await self.commands.run(parsed, user)
        await ack(response_type="ephemeral", blocks=reply.blocks, text=reply.text)

    async def _on_show_chart(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        """ "Show chart": post the incident's chart in its thread (resolved ones too)."""
        await ack()
        value = str(action.get("value", ""))
        found = rows.get_incident(self.store, int(value)) if value.isdigit() else None
        container = body.get("container", {})
        if self.charts is None or found is None or container.get("message_ts") != found.slack_ts:
            refusal = messages.button_stale(messages.incident_not_found(int(value or 0)))
            await respond(response_type="ephemeral", replace_original=False, text=refusal)
            return
        self.charts.post_soon(found, body.get("user", {}).get("id", ""))

    async def _on_link(self, ack: Any) -> None:
        await ack()  # a URL button opens its link in the browser; Slack still wants an ack

    def _button(
        self, act: Callable[[Incident, str], Awaitable[None]]
    ) -> Callable[..., Awaitable[None]]:
        async def listener(
            ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
        ) -> None:
            await ack()
            user = payloads.user_of(body)
            refusal = await self._refusal(body, action)
            if refusal is None:
                incident = rows.get_incident(self.store, int(action["value"]))
                assert incident is not None
                try:
                    await act(incident, user)
                    return
                except UserError as exc:
                    refusal = messages.button_stale(str(exc))
            await respond(response_type="ephemeral", replace_original=False, text=refusal)

        return listener

    async def _refusal(self, body: dict[str, Any], action: dict[str, Any]) -> str | None:
        """Why a click must change nothing, or None when it may proceed."""
        value = str(action.get("value", ""))
        if not value.isdigit():
            return messages.button_stale(messages.button_not_selfregs())
        incident = rows.get_incident(self.store, int(value))
        if incident is None:
            return messages.button_stale(messages.incident_not_found(int(value)))
        if not payloads.from_message_of(body, incident):
            return messages.button_not_for_this_message(incident.id)
        if not incident.is_open:
            return messages.button_stale(messages.incident_closed(incident.id))
        return None

    # ---- remediation buttons ----------------------------------------------------------------
    async def _proposal_refusal(self, body: dict[str, Any], action: dict[str, Any]) -> str | None:
        """Why an Approve / Deny click must change nothing, or None."""
        value = str(action.get("value", ""))
        proposal = proposals.get(self.store, int(value)) if value.isdigit() else None
        if proposal is None or self.remediation is None:
            return messages.refusal_unknown_proposal(value or messages.NO_PROPOSAL_VALUE)
        incident = rows.get_incident(self.store, proposal.incident_id or 0)
        if incident is None or not payloads.from_message_of(body, incident):
            return messages.button_stale(messages.button_not_for_proposal(proposal.id))
        return None

    async def _on_approve(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        refusal = await self._proposal_refusal(body, action)
        if refusal is None:
            assert self.remediation is not None
            user = payloads.user_of(body)
            decision = await self.remediation.approve(int(action["value"]), user)
            refusal = None if decision.allowed else decision.reason
        if refusal is not None:
            await respond(response_type="ephemeral", replace_original=False, text=refusal)

    async def _on_deny(
        self,
        ack: Any,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Any,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        refusal = await self._proposal_refusal(body, action)
        if refusal is not None:
            await respond(response_type="ephemeral", replace_original=False, text=refusal)
            return
        proposal_id, trigger = int(action["value"]), str(body.get("trigger_id", ""))
        try:
            await client.views_open(trigger_id=trigger, view=views.deny_view(proposal_id))
        except SlackApiError as exc:  # an expired trigger: the person is told, not the log
            text = messages.deny_form_failed(proposal_id, str(exc.response.get("error")))
            await respond(response_type="ephemeral", replace_original=False, text=text)

    async def _on_deny_submitted(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        assert self.remediation is not None
        submitted = payloads.deny_submission(view)
        if submitted is None:
            await ack(response_action="errors", errors={"reason": messages.deny_form_unreadable()})
            return
        proposal_id, reason = submitted
        user = payloads.user_of(body)
        try:
            decision = await self.remediation.deny(proposal_id, user, reason)
        except UserError as exc:
            await ack(response_action="errors", errors={"reason": str(exc)[:150]})
            return
        refusal = None if decision.allowed else decision.reason[:150]
        await ack(
            **({"response_action": "errors", "errors": {"reason": refusal}} if refusal else {})
        )

    async def _restart_anyway(self, incident: Incident, user: str) -> None:
        name = self._component_of(incident, user)
        detail = await self.supervisor.restart_anyway(name)
        self.alerting.close(incident.id, messages.restarted_anyway(user, detail))

    async def _keep_stopped(self, incident: Incident, user: str) -> None:
        name = self._component_of(incident, user)
        await self.supervisor.keep_stopped(name)
        self.alerting.close(incident.id, messages.kept_stopped(user))

    def _component_of(self, incident: Incident, user: str) -> str:
        """The crash-looping component an incident is about; only admins decide."""
        if user not in self.commands.admins:
            raise UserError(messages.admins_only(messages.IncidentButtons.crash_loop_choice))
        if self.supervisor is None or not incident.check.startswith("component:"):
            raise UserError(messages.not_about_a_component())
        return incident.check.removeprefix("component:")

    async def _useful(self, incident: Incident, user: str) -> None:
        self._predictor().feedback(incident.id, user, predictions.USEFUL)

    async def _false_alarm(self, incident: Incident, user: str) -> None:
        self._predictor().feedback(incident.id, user, predictions.FALSE_ALARM)

    def _predictor(self) -> Predictor:
        if self.predictor is None:
            raise UserError(messages.models_off())
        return self.predictor

    async def _ack(self, incident: Incident, user: str) -> None:
        self.alerting.acknowledge(incident.id, user)

    async def _silence_hour(self, incident: Incident, user: str) -> None:
        self.alerting.silence_incident(incident.id, user, 3600.0)

    async def _silence_resolved(self, incident: Incident, user: str) -> None:
        self.alerting.silence_incident(incident.id, user, None)

    async def _unsilence(self, incident: Incident, user: str) -> None:
        if incident.silence_id is None:
            raise UserError(messages.not_silenced(incident.id))
        self.alerting.remove_silence(incident.silence_id, user)

    # ---- transports -----------------------------------------------------------------------
    async def start(self) -> None:
        """Connect the socket (socket mode); HTTP mode needs nothing beyond the route."""
        if self.connection.mode == "socket":
            await self._connect()
            self._watchdog = asyncio.create_task(self._watch(), name="slack-watchdog")

    async def _connect(self) -> None:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        self.handler = AsyncSocketModeHandler(self.app, app_token=self.connection.app_token)
        self.handler.client.on_message_listeners.append(self._on_frame)
        await self.handler.connect_async()
        self.connected = True

    async def _on_frame(self, message: WSMessage) -> None:
        """Note disconnect reasons; ``link_disabled`` means the app itself is switched off."""
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            frame = json.loads(message.data)
            if frame.get("type") == "disconnect":
                self.last_disconnect = frame.get("reason")
                log.info(messages.slack_asked_reconnect(self.last_disconnect))

    async def _watch(self) -> None:
        """Rebuild a socket that stays down; back off, and longer after link_disabled."""
        backoff = WATCH_EVERY
        down = 0
        while True:
            await asyncio.sleep(WATCH_EVERY)
            handler = self.handler
            alive = handler is not None and await handler.client.is_connected()
            self.connected = alive
            if alive:
                down, backoff = 0, WATCH_EVERY
                continue
            down += 1
            if down < 2 and self.last_disconnect != "link_disabled":
                continue  # the client reconnects by itself; give it a turn
            log.warning(messages.slack_socket_down(self.last_disconnect, backoff))
            with contextlib.suppress(Exception):
                if handler is not None:
                    await handler.close_async()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            try:
                await self._connect()
                self.last_disconnect = None
            except Exception as exc:  # any failure to connect is retried after the back-off
                log.warning(messages.slack_reconnect_failed(str(exc)))

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """``POST /slack/events``: Bolt checks the signature and the timestamp."""
        from bot.slack import guard  # with Bolt: imported at the first request

        return await guard.dispatch(self.app, request)

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self.handler is not None:
            with contextlib.suppress(Exception):
                await self.handler.close_async()
        self.connected = False

    def health(self) -> dict[str, Any]:
        interactive = self.connection.mode == "http" or self.connected
        return {
            "mode": self.connection.mode,
            "connected": interactive,
            "last_disconnect": self.last_disconnect,
        }

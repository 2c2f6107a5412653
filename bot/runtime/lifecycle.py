"""selfreg's life cycle: build the parts, start them in order, run, stop them in reverse.

Everything runs on one asyncio loop: the scheduler's interval jobs, the outbox worker, the
supervisor's watchers, the web server and the control socket. ``Runtime.start`` runs the
steps in one go (tests); ``bot/startup.py`` runs them as named, reported steps:
``start_services`` (build every part, open the control socket, the web server and Slack),
the components, ``start_monitors`` (delivery, the lag probe, the scheduler), then
``announce_started`` (the config watcher, the heartbeat and the started notice).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from aiohttp import web

from bot import __version__, control, logline, messages
from bot.clock import Clock, SystemClock
from bot.config import LoadedConfig
from bot.config.api import unset_api_tokens
from bot.control.people import People
from bot.control.server import build_control_app, serve
from bot.engine.lifecycle import PreviousRun, last_event_id, previous_run, recovery_notice
from bot.engine.requests import Requests
from bot.errors import AlreadyRunning, WebTokenMissing
from bot.records import EventKind
from bot.runtime import documents, jobs, own_log
from bot.runtime.build import build
from bot.runtime.factories import web_hooks
from bot.runtime.jobs import anchor_audit
from bot.runtime.memory import trim_heap
from bot.runtime.parts import Parts
from bot.slack.client import check_token, workspace_url
from bot.web.api import ApiContext
from bot.web.app import build_app, is_loopback
from bot.web.dashboard import Dashboard
from bot.web.dashboard_data import Reader, facts_from
from bot.web.metrics import metrics_registry
from checks.base import Observation

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.engine.predict import Predictor
    from bot.engine.remediation import Remediation
    from bot.engine.runner import CheckRunner
    from bot.engine.supervisor import Supervisor
    from bot.store import Store

log = logging.getLogger(__name__)

ACTIONS_FINISH_WITHIN = 10.0  # at stop, running actions get this long to finish
OUTBOX_FLUSH_WITHIN = 10.0  # at stop, the outbox worker gets this long to deliver what is due


class NotBuilt(RuntimeError):
    """A part was asked for before ``start_services`` built the parts."""

    def __init__(self) -> None:
        super().__init__("selfreg's parts are not built yet (start_services comes first)")


class Runtime:
    """selfreg, assembled. ``start()`` then ``stop()`` (``bot/startup.py`` runs it as steps)."""

    def __init__(
        self, config: LoadedConfig, *, clock: Clock | None = None, out: TextIO | None = None
    ) -> None:
        self.booted = config
        self.clock = clock or SystemClock()
        self.out = out or sys.stdout
        self.slack_token_checked = False  # the start-up sequence may have asked Slack already
        self.slack_workspace: str | None = None  # auth.test's url: the dashboard's Slack links
        self.web_url = ""
        self.started_at = 0.0
        self._parts: Parts | None = None
        self._servers: list[web.AppRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._outbox_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._serves_socket = False
        self._announced_start = False
        self._stopped = False
        self._previous_run = PreviousRun(started_at=None, stopped=True)
        self._events_since = 0

    # ---- the parts ------------------------------------------------------------------------
    @property
    def parts(self) -> Parts:
        if self._parts is None:
            raise NotBuilt()
        return self._parts

    @property
    def config(self) -> LoadedConfig:
        """The config running now: the one started on, or the last one a reload applied."""
        return self._parts.reloader.config if self._parts is not None else self.booted

    @property
    def store(self) -> Store:
        return self.parts.store

    @property
    def runner(self) -> CheckRunner:
        return self.parts.runner

    @property
    def supervisor(self) -> Supervisor:
        return self.parts.supervisor

    @property
    def scheduler(self) -> AsyncIOScheduler:
        return self.parts.scheduler

    @property
    def remediation(self) -> Remediation | None:
        return self.parts.remediation

    @property
    def predictor(self) -> Predictor | None:
        return self.parts.predictor

    @property
    def requests(self) -> Requests:
        """What people ask through the terminal and the API (``bot.engine.requests``)."""
        parts = self.parts
        return Requests(
            alerting=parts.alerting,
            supervisor=parts.supervisor,
            remediation=parts.remediation,
            allows=parts.permissions.allows,
        )

    # ---- start ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every part; on failure, stop what had started and re-raise."""
        web_settings = self.booted.settings.web
        if not is_loopback(web_settings.host) and not self.booted.web_token:
            raise WebTokenMissing(web_settings.host)
        if control.socket_in_use(self.booted.control_socket):
            raise AlreadyRunning(str(self.booted.control_socket))
        try:
            await self.start_services()
            await self.supervisor.start()
            self.start_monitors()
            self.announce_started()
        except BaseException:
            await self.stop()
            raise

    async def start_services(self) -> None:
        """The store, the engine's parts, the control socket, the web server and Slack.

        The first of the start-up steps (``bot/startup.py``); components come next.
        """
        self._parts = parts = build(self.booted, clock=self.clock, out=self.out)
        store = parts.store
        self._previous_run = previous_run(store)
        self.started_at = self.clock.now()
        with store.transaction():
            store.record_event(
                EventKind.STARTED, "", self.started_at, files=[str(f) for f in self.booted.files]
            )
        self._events_since = last_event_id(store)
        anchor_audit(store, self.started_at, "start")
        if parts.slack_client is not None and not self.slack_token_checked:
            self.slack_workspace = workspace_url(await check_token(parts.slack_client))
        if released := parts.outbox.release_claims():
            log.info("%d outbox row(s) left in flight by the previous run are due again", released)
        await self._serve_control(parts)
        await self._serve_web(parts)
        if parts.slack is not None:
            await parts.slack.start()

    async def _serve_control(self, parts: Parts) -> None:
        people = People(
            requests=self.requests,
            identify=lambda user: parts.reloader.config.settings.cli.approver_for(user),
        )
        app = build_control_app(
            self.status,
            self.run_checks,
            people,
            parts.predictor,
            parts.reloader.reload,
            parts.regulation,
            admins=lambda: parts.reloader.config.settings.slack.admins,
        )
        self._servers.append(await serve(app, self.booted.control_socket))
        self._serves_socket = True

    async def _serve_web(self, parts: Parts) -> None:
        settings = self.booted.settings.web
        registry = metrics_registry(
            lambda: parts.runner.latest, parts.runner.tally, parts.outbox.pending_count
        )
        # only HTTP mode verifies Slack's signature: in socket mode the route must not exist,
        # or anyone reaching the port could click as anyone (it is open past the web token)
        http_mode = parts.slack is not None and parts.slack.connection.mode == "http"
        slack_events = parts.slack.handle_http if http_mode and parts.slack else None
        reader = Reader(
            self.booted.db_path,
            lambda: facts_from(parts.reloader.config.settings),
            self.clock.now,
        )
        dashboard = Dashboard(reader, self.booted.web_token, lambda: self.slack_workspace)
        app = build_app(
            self,
            registry,
            self.booted.web_token,
            slack_events,
            dashboard=dashboard,
            hooks=web_hooks(parts.config, parts.external_alerts),
            api=self._api(parts, reader),
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        self._servers.append(runner)
        port = runner.addresses[0][1]
        self.web_url = f"http://{settings.host}:{port}"

    def _api(self, parts: Parts, reader: Reader) -> ApiContext:
        """The management API's view of this selfreg (``bot.web.api``); it follows reloads."""
        for name in unset_api_tokens(self.booted.settings.api, self.booted.api_tokens):
            log.warning(messages.api_token_env_unset(*name))
        return ApiContext(
            requests=self.requests,
            reader=reader,
            identities=lambda: (self.config.settings.api.tokens, self.config.api_tokens),
            status=self.status,
            run_checks=self.run_checks,
            check_kinds=lambda: {c.name: c.kind for c in self.config.settings.checks},
            data_dir=self.booted.data_dir,
            version=__version__,
        )

    def start_monitors(self) -> None:
        """Delivery, the lag probe and the scheduler (checks, predictors, housekeeping)."""
        parts = self.parts
        self._outbox_task = asyncio.create_task(parts.outbox.run(), name="outbox")
        self._tasks.append(self._outbox_task)
        self._tasks.append(asyncio.create_task(parts.lag.run(), name="lag-probe"))
        jobs.start_scheduler(
            parts.scheduler, parts.runner, parts.housekeeping, parts.predictor, parts.regulation
        )
        # Everything built so far lives as long as the process: keep the collector from
        # walking it again on every round of checks (measured: about 0.08 ms per check).
        gc.freeze()
        trim_heap()  # and what start-up freed goes back to the system

    def announce_started(self, detached: bool = False) -> None:
        """The line operators and tests wait for: "selfreg is running: ...", after which the
        config watcher and heartbeat start and the started (or recovered) notice is posted."""
        parts = self.parts
        parts.reloader.start()
        if parts.heartbeat is not None:
            self._heartbeat_task = asyncio.create_task(parts.heartbeat.run(), name="heartbeat")
            self._tasks.append(self._heartbeat_task)
        checks, components = len(parts.runner.checks), len(parts.supervisor.components)
        parts.announcer.post(messages.selfreg_started(checks, components), "selfreg")
        if self._previous_run.crashed:
            notice = recovery_notice(parts.store, self._previous_run, self._events_since)
            parts.announcer.post(notice, "selfreg")
        self._announced_start = True
        if detached:  # its output is selfreg.log, which only selfreg itself can keep small
            log_file = own_log.log_file(self.booted.data_dir)
            self._tasks.append(asyncio.create_task(own_log.keep_rotated(log_file), name="own-log"))
        files = [str(f) for f in self.booted.files]
        data_dir = str(self.booted.data_dir)
        started = messages.started(files, checks, components, self.web_url, detached, data_dir)
        logline.write(self.out, "INFO", "selfreg", started)

    def on_hangup(self) -> None:
        """SIGHUP reloads the config (once started; before that the start reads it anyway)."""
        if self._parts is not None and self._announced_start:
            self._parts.reloader.on_signal()

    # ---- stop -----------------------------------------------------------------------------
    async def stop(self) -> None:
        """Stop in reverse order: scheduler, components, delivery, servers, store.

        No new checks (and the ones in flight are cancelled, so none sees a component stop
        and calls it an outage), no new clicks, running actions finish or time out, then
        components in reverse order, the outbox flushed, servers closed, the store last.
        Safe to call more than once, and after a start that failed part-way.
        """
        parts = self._parts
        if parts is not None and not self._stopped:
            await self._stop_engine(parts)
        await self._stop_tasks()
        for runner in reversed(self._servers):
            await runner.cleanup()
        self._servers.clear()
        if self._serves_socket:
            control.remove_socket(self.booted.control_socket)
            self._serves_socket = False
        if parts is not None and not self._stopped:
            self._stopped = True
            await self._close(parts)

    async def _stop_engine(self, parts: Parts) -> None:
        """The notice, then no new reloads, pings, checks or clicks; actions and components."""
        if self._announced_start:
            self._announced_start = False
            uptime = self.clock.now() - self.started_at
            parts.announcer.post(messages.selfreg_stopping(uptime), "selfreg")
        await parts.reloader.stop()
        if self._heartbeat_task is not None:  # a stopping scheduler must not ping /fail
            self._heartbeat_task.cancel()
        if parts.scheduler.running:
            parts.scheduler.shutdown(wait=False)
        for task in list(parts.runner.in_flight.values()):
            task.cancel()
        if parts.slack is not None:
            await parts.slack.stop()
        if parts.remediation is not None:
            await parts.remediation.wait_idle(ACTIONS_FINISH_WITHIN)
        await parts.supervisor.stop()
        # the worker flushes what is due and ends between two rows, never mid-call
        parts.outbox.finish()
        if self._outbox_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait([self._outbox_task], timeout=OUTBOX_FLUSH_WITHIN)

    async def _stop_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _close(self, parts: Parts) -> None:
        """The HTTP session, the models' state, the stopped event and the store, last."""
        await parts.http.close()
        if parts.predictor is not None:
            parts.predictor.save()
        with parts.store.transaction():
            parts.store.record_event(EventKind.STOPPED, "", self.clock.now())
        anchor_audit(parts.store, self.clock.now(), "stop")
        parts.store.close()

    # ---- what the web server, the control socket and the start-up steps ask --------------
    def health(self) -> tuple[bool, dict[str, Any]]:
        return documents.health(self.parts)

    def status(self) -> dict[str, Any]:
        return documents.status(self.parts)

    async def run_checks(self, names: Sequence[str] | None) -> list[Observation]:
        """Run checks once now without recording anything (health and ``check run``)."""
        return await documents.run_checks(self.parts.runner, names)

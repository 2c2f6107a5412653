"""The composition root: build every part from the config, start them in order, stop them.

Everything runs on one asyncio loop: the scheduler's interval jobs, the outbox worker, the
supervisor's watchers, the web server and the control socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import aiohttp
from aiohttp import web
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

import actions
import checks
from bot import control, messages
from bot.clock import Clock, SystemClock
from bot.config import LoadedConfig, load_settings
from bot.engine.action_context import EngineActionContext, SupervisorControls
from bot.engine.alerting import Alerting, incident_snapshot
from bot.engine.check_jobs import add_check_job
from bot.engine.heartbeat import Heartbeat
from bot.engine.lifecycle import PreviousRun, last_event_id, previous_run, recovery_notice
from bot.engine.notices import Announcer
from bot.engine.reload import Reloader
from bot.engine.remediation import Remediation, Verification, verification_from
from bot.engine.runner import CheckRunner
from bot.engine.status import build_status
from bot.engine.supervisor import Supervisor
from bot.errors import UnknownCheck, UserError, WebTokenMissing
from bot.notify.base import Notifier
from bot.notify.console import ConsoleNotifier
from bot.notify.email import EmailNotifier
from bot.notify.jsonlog import JsonLogNotifier
from bot.notify.outbox import OutboxWorker
from bot.notify.webhook import WebhookNotifier
from bot.pidfile import process_facts
from bot.records import EventKind, Severity
from bot.slack.app import SlackApp, check_token, make_client
from bot.slack.commands import Commands
from bot.slack.delivery import SlackNotifier
from bot.slack.permissions import Permissions
from bot.store import Store, open_store
from bot.store.backup import create_backup
from bot.store.incidents import open_incidents
from bot.store.retention import prune, roll_up
from bot.web.app import build_app, is_loopback
from bot.web.metrics import metrics_registry
from checks.base import Check, Observation

if TYPE_CHECKING:
    from bot.engine.predict import Predictor

log = logging.getLogger(__name__)

LAG_PROBE_EVERY = 2.0  # one wake every 2 s: lag is still seen, at a quarter of a ms per wake
SWEEP_EVERY = 5.0  # escalation steps and reminders land within this of their time
ACTIONS_FINISH_WITHIN = 10.0  # at stop, running actions get this long to finish


class AlreadyRunning(UserError):
    def __init__(self, socket_path: str) -> None:
        super().__init__(
            f"selfreg already runs with this data folder (control socket {socket_path})"
        )


def build_checks(config: LoadedConfig) -> list[Check]:
    """One check instance per configured entry, from the registry."""
    return [checks.REGISTRY[spec.kind](spec) for spec in config.settings.checks]


def build_notifiers(
    config: LoadedConfig, out: TextIO, http: aiohttp.ClientSession, clock: Clock
) -> dict[str, Notifier]:
    """The delivery channels the config turns on (Slack is added once its token checks out)."""
    alerts = config.settings.alerts
    notifiers: dict[str, Notifier] = {}
    if alerts.console:
        notifiers["console"] = ConsoleNotifier(out)
    if alerts.log is not None:
        notifiers["log"] = JsonLogNotifier(config.data_dir / alerts.log.path, clock=clock)
    if alerts.email is not None:
        notifiers["email"] = EmailNotifier(alerts.email, config.smtp_password, clock=clock)
    if alerts.webhook is not None:
        notifiers["webhook"] = WebhookNotifier(
            alerts.webhook, config.webhook_secret, http, clock=clock
        )
    return notifiers


def channel_floors(config: LoadedConfig, notifiers: Mapping[str, Notifier]) -> dict[str, Severity]:
    """Each channel's minimum severity for loud notices (console and Slack hear everything)."""
    alerts = config.settings.alerts
    floors = {name: Severity.INFO for name in notifiers}
    for name in ("log", "email", "webhook"):
        section = getattr(alerts, name)
        if name in notifiers and section is not None:
            floors[name] = Severity(section.min_severity)
    return floors


def make_http_session() -> aiohttp.ClientSession:
    """The one shared HTTP client: pooled keep-alive connections, no proxy from the environment."""
    connector = aiohttp.TCPConnector(limit=200, limit_per_host=50, ttl_dns_cache=300)
    return aiohttp.ClientSession(connector=connector, trust_env=False)


class LagProbe:
    """Measures how late the loop wakes a sleeper: the event loop's own lag."""

    def __init__(self) -> None:
        self.latest = 0.0
        self.worst = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + LAG_PROBE_EVERY
            await asyncio.sleep(LAG_PROBE_EVERY)
            self.latest = max(loop.time() - expected, 0.0)
            self.worst = max(self.worst, self.latest)

    def take_worst(self) -> float:
        """The worst lag since the previous call."""
        worst, self.worst = max(self.worst, self.latest), 0.0
        return worst


class Runtime:
    """selfreg, assembled. ``start()`` then ``stop()`` (``bot/startup.py`` runs it as steps)."""

    def __init__(
        self, config: LoadedConfig, *, clock: Clock | None = None, out: TextIO | None = None
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.out = out or sys.stdout
        self.store: Store | None = None
        self.runner: CheckRunner | None = None
        self.supervisor: Supervisor | None = None
        self.outbox: OutboxWorker | None = None
        self.alerting: Alerting | None = None
        self.slack: SlackApp | None = None
        self.slack_client: AsyncWebClient | None = None
        self.slack_notifier: SlackNotifier | None = None
        self.remediation: Remediation | None = None
        self.predictor: Predictor | None = None
        self.permissions: Permissions | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.http: aiohttp.ClientSession | None = None
        self.lag = LagProbe()
        self.web_url = ""
        self._runners: list[web.AppRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._serves_socket = False
        self.slack_token_checked = False
        self.announcer: Announcer | None = None
        self.reloader: Reloader | None = None
        self.heartbeat: Heartbeat | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self.started_at = 0.0
        self._announced_start = False
        self._previous_run = PreviousRun(started_at=None, stopped=True)
        self._events_since = 0
        # how a reload reads the config: the same files and environment as at start
        self.load_config: Callable[[], LoadedConfig] = lambda: load_settings(
            str(self.config.files[0])
        )

    # ---- start and stop -------------------------------------------------------------------
    async def start(self) -> None:
        """Start every part; on failure, stop what had started and re-raise."""
        config = self.config
        web_settings = config.settings.web
        if not is_loopback(web_settings.host) and not config.web_token:
            raise WebTokenMissing(web_settings.host)
        if control.socket_in_use(config.control_socket):
            raise AlreadyRunning(str(config.control_socket))
        try:
            await self._start_parts()
        except BaseException:
            await self.stop()
            raise

    async def _start_parts(self) -> None:
        await self.start_services()
        assert self.supervisor is not None
        await self.supervisor.start()
        self.start_monitors()
        self.announce_started()

    async def start_services(self) -> None:
        """The store, the engine's parts, the control socket, the web server and Slack.

        The first of the start-up steps (``bot/startup.py``); components come next.
        """
        config = self.config
        self.store = store = open_store(config.db_path)
        self._previous_run = previous_run(store)
        self.started_at = self.clock.now()
        with store.transaction():
            store.record_event(
                EventKind.STARTED, "", self.clock.now(), files=[str(f) for f in config.files]
            )
        self._events_since = last_event_id(store)
        self.http = make_http_session()
        notifiers = build_notifiers(config, self.out, self.http, self.clock)
        if config.slack.enabled:
            self.slack_client = make_client(config.slack)
            if not self.slack_token_checked:  # the start-up sequence may have asked already
                await check_token(self.slack_client)
            notifiers["slack"] = self.slack_notifier = SlackNotifier(
                self.slack_client,
                store,
                self.clock,
                config.slack.channel or "",
                interactive=config.slack.interactive,
            )
            if not config.slack.interactive:
                log.info(messages.slack_post_mode())
        self.outbox = OutboxWorker(store, notifiers, self.clock)
        if released := self.outbox.release_claims():
            log.info("%d outbox row(s) left in flight by the previous run are due again", released)
        self.alerting = Alerting(
            store,
            self.clock,
            config.settings.alerts,
            {spec.name: spec for spec in config.settings.checks},
            channel_floors(config, notifiers),
        )
        self.alerting.on_queued = self.outbox.wake.set
        self.runner = CheckRunner(
            checks=build_checks(config),
            store=store,
            clock=self.clock,
            http=self.http,
            hooks=self.alerting,
            stats=self.engine_stats,
        )
        self.predictor = self._build_predictor()
        self.supervisor = Supervisor(
            config.settings.components,
            store,
            self.clock,
            log_dir=config.data_dir / "logs",
            base_dir=config.files[0].parent,
            http=self.http,
        )
        self.permissions = Permissions(
            config.settings.slack.permissions, config.settings.slack.admins, self.slack_client
        )
        self.supervisor.on_crash_loop = self.alerting.component_crash_looped
        self.remediation = self._build_remediation()
        if self.slack_notifier is not None and self.remediation is not None:
            self.slack_notifier.offers = self.remediation.offers
        self.announcer = Announcer(store, self.clock, self.alerting.channels, self.outbox.wake.set)
        self.reloader = Reloader(self, self.announcer, self.load_config)
        self._runners.append(
            await control.serve(
                control.build_control_app(
                    self.status,
                    self.run_checks,
                    self.remediation,
                    self.predictor,
                    self.reloader.reload,
                ),
                config.control_socket,
            )
        )
        self._serves_socket = True
        if config.slack.interactive:
            assert self.slack_client is not None
            commands = Commands(
                alerting=self.alerting,
                store=store,
                clock=self.clock,
                permissions=self.permissions,
                status=self.status,
                run_checks=self._observation_dicts,
                started_at=self.clock.now(),
                remediation=self.remediation,
                admins=config.settings.slack.admins,
                reload=self.reloader.from_command,
            )
            self.slack = SlackApp(
                config.slack,
                self.slack_client,
                commands,
                self.alerting,
                store,
                self.remediation,
                self.supervisor,
            )
            commands.predictor = self.slack.predictor = self.predictor
        await self._start_web()
        if self.slack is not None:
            await self.slack.start()

    def start_monitors(self) -> None:
        """Delivery, the lag probe and the scheduler (checks, predictors, housekeeping)."""
        assert self.outbox is not None
        self._tasks.append(asyncio.create_task(self.outbox.run(), name="outbox"))
        self._tasks.append(asyncio.create_task(self.lag.run(), name="lag-probe"))
        self._start_scheduler()
        # Everything built so far lives as long as the process: keep the collector from
        # walking it again on every round of checks (measured: about 0.08 ms per check).
        gc.freeze()

    def announce_started(self, detached: bool = False) -> None:
        """The line operators and tests wait for: "selfreg is running: ...", after which the
        config watcher and heartbeat start and the started (or recovered) notice is posted."""
        self._start_lifecycle(self._previous_run, self._events_since)
        config = self.config
        assert self.runner is not None and self.supervisor is not None
        print(
            messages.started(
                [str(f) for f in config.files],
                len(self.runner.checks),
                len(self.supervisor.components),
                self.web_url,
                detached,
            ),
            file=self.out,
            flush=True,
        )

    def _start_lifecycle(self, previous: PreviousRun, since: int) -> None:
        """The config watcher, the heartbeat, and the started (or recovered) notices."""
        assert self.reloader is not None and self.announcer is not None and self.store
        assert self.runner is not None and self.supervisor is not None and self.http
        self.reloader.start()
        if self.config.heartbeat_url is not None:
            beat = self.config.settings.heartbeat
            self.heartbeat = Heartbeat(
                self.config.heartbeat_url,
                self.http,
                lambda: self.health()[0],
                every=beat.every,
                timeout=beat.timeout,
            )
            self._heartbeat_task = asyncio.create_task(self.heartbeat.run(), name="heartbeat")
            self._tasks.append(self._heartbeat_task)
        self.announcer.post(
            messages.selfreg_started(len(self.runner.checks), len(self.supervisor.components)),
            "selfreg",
        )
        if previous.crashed:
            self.announcer.post(recovery_notice(self.store, previous, since), "selfreg")
        self._announced_start = True

    async def _start_web(self) -> None:
        assert self.runner is not None
        settings = self.config.settings.web
        registry = metrics_registry(lambda: self.runner.latest if self.runner else {})
        app = build_app(
            self, registry, self.config.web_token, self.slack.handle_http if self.slack else None
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        self._runners.append(runner)
        port = runner.addresses[0][1]
        self.web_url = f"http://{settings.host}:{port}"

    def _start_scheduler(self) -> None:
        assert self.runner is not None and self.store is not None
        scheduler = AsyncIOScheduler(timezone="UTC")
        for interval in self.runner.intervals():
            add_check_job(scheduler, self.runner, interval)
        scheduler.add_job(
            self.housekeeping_rollup,
            "interval",
            seconds=60,
            id="housekeeping:rollup",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=60,
        )
        scheduler.add_job(
            self.alerts_sweep,
            "interval",
            seconds=SWEEP_EVERY,
            id="alerts:sweep",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=60,
        )
        scheduler.add_job(
            self.housekeeping_prune,
            "interval",
            minutes=15,
            id="housekeeping:prune",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=600,
            next_run_time=_utc_now(),
        )
        self._add_backup_job(scheduler)
        if self.predictor is not None:
            scheduler.add_job(
                self.predictor.retrain,
                "interval",
                seconds=min(self.config.settings.models.retrain_every, 600.0),
                id="models:retrain",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=600,
                next_run_time=_utc_now(),
            )
        scheduler.add_listener(self._job_failed, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        scheduler.start()
        self.scheduler = scheduler

    def _job_failed(self, event: JobExecutionEvent) -> None:
        if isinstance(event.exception, asyncio.CancelledError):
            return  # a round cut short by a stop: not a failure
        if event.exception is None:
            log.warning("scheduled job %s missed its run time", event.job_id)
            return
        log.error("scheduled job %s failed: %r", event.job_id, event.exception)
        if self.store is not None:
            with self.store.transaction():
                self.store.record_event(
                    EventKind.JOB_FAILED,
                    event.job_id,
                    self.clock.now(),
                    error=repr(event.exception),
                )

    async def stop(self) -> None:
        """Stop in reverse order: scheduler, components, delivery, servers, store.

        No new checks (and the ones in flight are cancelled, so none sees a component stop
        and calls it an outage), no new clicks, running actions finish or time out, then
        components in reverse order, the outbox flushed, servers closed, the store last.
        """
        if self._announced_start and self.announcer is not None:
            self._announced_start = False
            self.announcer.post(
                messages.selfreg_stopping(self.clock.now() - self.started_at), "selfreg"
            )
        if self.reloader is not None:
            await self.reloader.stop()
        if self._heartbeat_task is not None:  # a stopping scheduler must not ping /fail
            self._heartbeat_task.cancel()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.runner is not None:
            for task in list(self.runner.in_flight.values()):
                task.cancel()
        if self.slack is not None:
            await self.slack.stop()
        if self.remediation is not None:
            await self.remediation.wait_idle(ACTIONS_FINISH_WITHIN)
        if self.supervisor is not None:
            await self.supervisor.stop()
        if self.outbox is not None:
            # the worker flushes what is due and ends between two rows, never mid-call
            self.outbox.finish()
            with contextlib.suppress(Exception):
                await asyncio.wait(self._tasks[:1], timeout=10)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self._serves_socket:
            control.remove_socket(self.config.control_socket)
            self._serves_socket = False
        if self.http is not None:
            await self.http.close()
        if self.predictor is not None:
            self.predictor.save()
        if self.store is not None:
            with self.store.transaction():
                self.store.record_event(EventKind.STOPPED, "", self.clock.now())
            self.store.close()
            self.store = None

    def on_hangup(self) -> None:
        """SIGHUP reloads the config (once started; before that the start reads it anyway)."""
        if self.reloader is not None and self._announced_start:
            self.reloader.on_signal()

    # ---- housekeeping --------------------------------------------------------------------
    async def alerts_sweep(self) -> None:
        if self.alerting is not None:
            self.alerting.sweep()
        if self.remediation is not None:
            self.remediation.sweep()

    def _build_remediation(self) -> Remediation | None:
        """Actions exist only if configured: no [[actions]], no remediation at all."""
        settings = self.config.settings
        if not settings.actions:
            return None
        assert self.store is not None and self.alerting is not None and self.supervisor is not None
        assert self.http is not None and self.runner is not None
        runner = self.runner
        context = EngineActionContext(
            components=SupervisorControls(self.supervisor),
            http=self.http,
            logger=logging.getLogger("actions"),
            clock=self.clock,
            check_state=lambda name: runner.committed.get(name, {}),
        )
        remediation = Remediation(
            store=self.store,
            clock=self.clock,
            actions={spec.name: actions.REGISTRY[spec.kind](spec) for spec in settings.actions},
            remediations={c.name: list(c.remediate) for c in settings.checks if c.remediate},
            alerting=self.alerting,
            context=context,
            verify=self._verify_check,
            groups_of=self._groups_of,
            dry_run=settings.remediation.dry_run,
        )
        self.alerting.on_opened = remediation.on_incident_opened
        return remediation

    def _build_predictor(self) -> Predictor | None:
        """The predictors, fed by the runner after each write; none when [models] turns all off."""
        settings = self.config.settings.models
        if not (settings.anomaly or settings.failure_risk or settings.forecast):
            return None
        # imported only now: a selfreg with every model off needs none of it (scikit-learn
        # is never imported here at all: fits run in a worker process, see predict_fit)
        from bot.engine.predict import Predictor

        assert self.store is not None and self.alerting is not None and self.runner is not None
        predictor = Predictor(
            settings=settings,
            specs={spec.name: spec for spec in self.config.settings.checks},
            store=self.store,
            clock=self.clock,
            alerting=self.alerting,
            model_dir=self.config.data_dir / "models",
        )
        predictor.load()
        self.runner.on_recorded = predictor.observe
        return predictor

    async def _verify_check(self, name: str) -> Verification:
        """Re-run the check now and record it like any run (so a pass resolves the incident)."""
        assert self.runner is not None
        check = self.runner.checks[name]
        result = await self.runner.run_one(check)
        self.runner.record([result])
        return verification_from(list(result.observations), name)

    async def _groups_of(self, user: str) -> set[str]:
        """The approver user groups ``user`` belongs to."""
        groups = {
            a for spec in self.config.settings.actions for a in spec.approvers if a.startswith("S")
        }
        return {g for g in groups if user in await self.permissions.members(g)}

    async def housekeeping_rollup(self) -> None:
        if self.store is not None:
            roll_up(self.store, self.clock.now())

    async def housekeeping_prune(self) -> None:
        if self.store is not None:
            retention = self.config.settings.store
            prune(
                self.store,
                self.clock.now(),
                samples_for=retention.metrics_retention,
                rollups_for=retention.rollup_retention,
                events_for=retention.events_retention,
            )

    def _add_backup_job(self, scheduler: AsyncIOScheduler) -> None:
        """With ``[backup] every``, one backup per period (the first one period after start)."""
        every = self.config.settings.backup.every
        if every is None:
            return
        scheduler.add_job(
            self.housekeeping_backup,
            "interval",
            seconds=every,
            id="housekeeping:backup",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(int(every), 60),
        )

    async def housekeeping_backup(self) -> None:
        """Write one archive in a worker thread: the copy and gzip never stall the loop."""
        made = await asyncio.to_thread(create_backup, self.config)
        log.info(
            "backup written: %s (%d bytes, %.2f s)%s",
            made.path,
            made.size,
            made.seconds,
            f", copied to {made.copied_to}" if made.copied_to else "",
        )

    # ---- what the web server, the control socket and the selfreg check ask -------------
    def engine_stats(self) -> dict[str, float]:
        runner = self.runner
        durations = list(runner.last_durations.values()) if runner else []
        return {
            "loop_lag": self.lag.latest,
            "loop_lag_max": self.lag.take_worst(),
            "checks_in_flight": float(len(runner.in_flight)) if runner else 0.0,
            "checks_skipped": float(runner.skipped) if runner else 0.0,
            "check_time_max": max(durations, default=0.0),
            "outbox_pending": float(self.outbox.pending_count()) if self.outbox else 0.0,
        }

    def health(self) -> tuple[bool, dict[str, Any]]:
        reasons = []
        scheduler_ok = self.scheduler is not None and self.scheduler.running
        if not scheduler_ok:
            reasons.append("the scheduler is not running")
        store_ok = self.store is not None and self.store.is_writable()
        if not store_ok:
            reasons.append("the store is not writable")
        counts = Counter(
            s.status.value for s in (self.runner.latest.values() if self.runner else [])
        )
        body = {
            "status": "ok" if not reasons else "failing",
            "reasons": reasons,
            "scheduler": scheduler_ok,
            "store": store_ok,
            "loop_lag": self.lag.latest,
            "checks": dict(counts),
            "slack": self.slack_health(),
            "heartbeat": self.heartbeat_health(),
        }
        return not reasons, body

    def slack_health(self) -> dict[str, Any]:
        """Slack's state for /health and /status: it never makes /health fail."""
        if not self.config.slack.enabled:
            return {"mode": "off"}
        health = self.slack.health() if self.slack else {"mode": self.config.slack.mode}
        health["last_error"] = self.slack_notifier.last_error if self.slack_notifier else None
        return health

    def delivery_failures(self) -> list[dict[str, Any]]:
        """Outbox rows that failed for good in the last day, newest first (shown in /status)."""
        if self.store is None:
            return []
        rows = self.store.conn.execute(
            "SELECT id, channel, kind, failed_at, last_error FROM outbox WHERE failed_at > ? "
            "ORDER BY id DESC LIMIT 20",
            (self.clock.now() - 86400,),
        ).fetchall()
        return [dict(r) for r in rows]

    async def _observation_dicts(self, names: Sequence[str] | None) -> list[dict[str, Any]]:
        return [control.observation_dict(o) for o in await self.run_checks(names)]

    def heartbeat_health(self) -> dict[str, Any]:
        """The heartbeat for /status and /health: pings sent and failed, the last error
        (never the URL, a secret). ``{"enabled": False}`` without SELFREG_HEARTBEAT_URL."""
        beat = self.heartbeat
        if beat is None:
            return {"enabled": False}
        return {
            "enabled": True,
            "sent": beat.sent,
            "failed": beat.failed,
            "last_error": beat.last_error,
        }

    def status(self) -> dict[str, Any]:
        latest = self.runner.latest if self.runner else {}
        components = self.supervisor.snapshot() if self.supervisor else []
        document = build_status(latest, components, running=True, now=self.clock.now())
        document["slack"] = self.slack_health()
        document["delivery_failures"] = self.delivery_failures()
        document["selfreg"] = process_facts()
        document["heartbeat"] = self.heartbeat_health()
        if self.store is not None:
            document["incidents"] = [incident_snapshot(i) for i in open_incidents(self.store)]
        return document

    async def run_checks(self, names: Sequence[str] | None) -> list[Observation]:
        """Run checks once now without recording anything (health and ``check run``)."""
        assert self.runner is not None
        if names is not None:
            missing = [n for n in names if n not in self.runner.checks]
            if missing:
                raise UnknownCheck(missing[0], sorted(self.runner.checks))
        results = await self.runner.run_now(names)
        return [o for r in results for o in r.observations]


def _utc_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def run_checks_alone(config: LoadedConfig, names: Sequence[str] | None) -> list[Observation]:
    """Run checks once in this process, recording nothing: no instance is running.

    Log offsets and other check state are read from the store when it exists, so a log
    check reports what is new since the running instance last looked, and never advances.
    """
    known = {spec.name for spec in config.settings.checks}
    if names is not None and (missing := [n for n in names if n not in known]):
        raise UnknownCheck(missing[0], sorted(known))
    path = config.db_path
    store = open_store(path, readonly=True) if path.exists() else open_store(Path(":memory:"))
    try:
        async with make_http_session() as http:
            runner = CheckRunner(
                checks=build_checks(config),
                store=store,
                clock=SystemClock(),
                http=http,
            )
            results = await runner.run_now(names)
    finally:
        store.close()
    return [o for r in results for o in r.observations]

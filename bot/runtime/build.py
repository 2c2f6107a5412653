"""``build``: every part of selfreg made from its config, each with what it needs.

Constructor injection in dependency order: the store and the HTTP session, the configured
actions, delivery (the Slack client, the notifiers and the outbox), alerting, the supervisor,
the predictors, the lag probe, the runner, Slack's permissions and the approver groups,
remediation, the scheduler; then Slack's commands and app, the heartbeat, housekeeping, the
announcer and the reloader. Nothing is assigned into a part afterwards.

Three dependencies point at a part made later in the same build, and are passed as functions
that look that part up when called (never during construction): alerting tells remediation
of each incident it opens while remediation replies through alerting; the runner's own
figures (for the selfreg check) read the runner; and Slack's ``/selfreg status`` and
``reload`` answer from the whole (every part, and the reloader, which hands Slack its new
admins).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from actions.base import Action
from bot import messages
from bot.clock import Clock
from bot.config import LoadedConfig, load_settings
from bot.engine.alerting import Alerting
from bot.engine.deploys import Deploys
from bot.engine.external_alerts import ExternalAlerts
from bot.engine.heartbeat import Heartbeat
from bot.engine.notices import Announcer
from bot.engine.predict.predictor import metric_limits
from bot.engine.regulate.make import Regulation, make_regulation
from bot.engine.reload import Reloader, ReloadTargets, SettingsHook
from bot.engine.remediation import Remediation
from bot.engine.runner import CheckRunner
from bot.engine.supervisor import Supervisor
from bot.engine.sync_runs import Chain, SyncRunLog
from bot.notify.outbox import OutboxWorker
from bot.records import Incident
from bot.runtime import documents
from bot.runtime.factories import (
    ApproverGroups,
    build_actions,
    build_alerting,
    build_checks,
    build_heartbeat,
    build_notifiers,
    build_predictor,
    build_remediation,
    build_supervisor,
    make_http_session,
)
from bot.runtime.jobs import Housekeeping, make_scheduler
from bot.runtime.lag import LagProbe
from bot.runtime.parts import Parts
from bot.slack.app import SlackApp
from bot.slack.charts import ChartPoster
from bot.slack.client import make_client
from bot.slack.commands import Commands
from bot.slack.delivery import SlackNotifier
from bot.slack.permissions import Permissions
from bot.slack.store_faults import StoreFaultNotices
from bot.store import Store, open_store
from bot.tally import Tally
from checks.base import Observation

if TYPE_CHECKING:
    from bot.engine.predict import Predictor

log = logging.getLogger(__name__)

_closing: set[asyncio.Task[None]] = set()


Recorded = Callable[[Sequence[Observation]], None]
"""What hears each write of the runner (``CheckRunner.on_recorded``)."""


def load_again(config: LoadedConfig) -> Callable[[], LoadedConfig]:
    """How a reload reads the config: the same file and environment as at start."""
    return lambda: load_settings(str(config.files[0]))


def build(
    config: LoadedConfig,
    *,
    clock: Clock,
    out: TextIO,
    load: Callable[[], LoadedConfig] | None = None,
) -> Parts:
    """Open the store and the HTTP session and make every part; start nothing.

    ``load`` is how a reload reads the config (default: the same file again). On failure the
    store and session are closed again before the error goes on.
    """
    store = open_store(config.db_path)
    http = make_http_session()
    try:
        return _assemble(config, clock, out, store, http, load or load_again(config))
    except BaseException:
        store.close()
        _close_later(http)
        raise


def _close_later(http: aiohttp.ClientSession) -> None:
    try:
        task = asyncio.get_running_loop().create_task(http.close())
    except RuntimeError:  # no loop: the session never connected anything
        return
    _closing.add(task)
    task.add_done_callback(_closing.discard)


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class _Engine:
    """The parts made first; ``_front`` adds the ones that answer from the whole."""

    config: LoadedConfig
    clock: Clock
    out: TextIO
    store: Store
    http: aiohttp.ClientSession
    slack_client: AsyncWebClient | None
    slack_notifier: SlackNotifier | None
    outbox: OutboxWorker
    alerting: Alerting
    supervisor: Supervisor
    predictor: Predictor | None
    lag: LagProbe
    runner: CheckRunner
    permissions: Permissions
    approvers: ApproverGroups
    remediation: Remediation | None
    scheduler: AsyncIOScheduler
    regulation: Regulation | None = None
    external_alerts: ExternalAlerts | None = None


def _assemble(
    config: LoadedConfig,
    clock: Clock,
    out: TextIO,
    store: Store,
    http: aiohttp.ClientSession,
    load: Callable[[], LoadedConfig],
) -> Parts:
    settings = config.settings
    remediation: Remediation | None = None  # made below: alerting calls it later
    regulation: Regulation | None = None  # made below: the runner feeds it later

    def incident_opened(incident: Incident) -> None:
        if remediation is not None:
            remediation.on_incident_opened(incident)

    configured_actions = build_actions(config)  # one instance each: delivery and remediation
    tally = Tally()  # what /metrics counts: the outbox, alerting and the runner add to it
    slack_client, slack_notifier, outbox = _delivery(
        config, clock, out, store, http, configured_actions, tally
    )
    alerting = build_alerting(config, store, clock, outbox, incident_opened)
    supervisor = build_supervisor(config, store, clock, http, alerting)
    predictor = build_predictor(config, store, clock, alerting)
    lag = LagProbe()
    regulated = _regulated(lambda: regulation) if settings.regulate.scale else None
    runner = _runner(config, clock, store, http, alerting, outbox, predictor, regulated, lag, tally)
    permissions = Permissions(settings.slack.permissions, settings.slack.admins, slack_client)
    approvers = ApproverGroups(permissions, config)
    external_alerts = (
        ExternalAlerts(runner, settings.alertmanager, clock) if settings.alertmanager else None
    )
    remediation = build_remediation(
        config, http, alerting, supervisor, runner, approvers, configured_actions,
        external_alerts.actions_for if external_alerts is not None else None,
    )  # fmt: skip
    regulation = make_regulation(settings, alerting, remediation, supervisor)
    scheduler = make_scheduler()  # its jobs are added, and it starts, in the monitors step
    engine = _Engine(
        config=config, clock=clock, out=out, store=store, http=http,
        slack_client=slack_client, slack_notifier=slack_notifier, outbox=outbox,
        alerting=alerting, supervisor=supervisor, predictor=predictor, lag=lag,
        runner=runner, permissions=permissions, approvers=approvers, remediation=remediation,
        scheduler=scheduler, external_alerts=external_alerts, regulation=regulation,
    )  # fmt: skip
    return _front(engine, load)


def _runner(
    config: LoadedConfig,
    clock: Clock,
    store: Store,
    http: aiohttp.ClientSession,
    alerting: Alerting,
    outbox: OutboxWorker,
    predictor: Predictor | None,
    regulated: Recorded | None,
    lag: LagProbe,
    tally: Tally,
) -> CheckRunner:
    """The check runner and who hears of its runs: the predictor, the scale rules
    (``regulated``) and the sync run log see each recorded observation, deploy tracking each
    deploy seen; the selfreg check's own figures read the runner, the outbox and the lag probe
    when it runs."""
    runner = CheckRunner(
        checks=build_checks(config),
        store=store,
        clock=clock,
        http=http,
        alerting=alerting,
        stats=lambda: documents.engine_stats(runner, outbox, lag),
        on_recorded=Chain(
            predictor.observe if predictor is not None else None,
            regulated,
            SyncRunLog(store, lambda: runner.checks).recorded,
        ),
        on_deploy=Deploys(store, Announcer(store, clock, alerting.channels, outbox.wake.set)).seen,
        tally=tally,
    )
    return runner


def _regulated(regulation: Callable[[], Regulation | None]) -> Recorded:
    """The scale rules' share of each write (regulation is made after the runner, so it is
    looked up when called)."""

    def recorded(observations: Sequence[Observation]) -> None:
        if (made := regulation()) is not None:
            made.observe(observations)

    return recorded


def _delivery(
    config: LoadedConfig,
    clock: Clock,
    out: TextIO,
    store: Store,
    http: aiohttp.ClientSession,
    configured_actions: Mapping[str, Action],
    tally: Tally,
) -> tuple[AsyncWebClient | None, SlackNotifier | None, OutboxWorker]:
    """The Slack client (when Slack is on), every notifier, and the outbox that feeds them."""
    notifiers = build_notifiers(config, out, http, clock, store)
    if not config.slack.enabled:
        return None, None, OutboxWorker(store, notifiers, clock, tally)
    client = make_client(config.slack, http)  # one pool for every Web API call
    store.on_write_fault(StoreFaultNotices(client, config.slack.channel or ""))  # not via the store
    notifiers["slack"] = notifier = SlackNotifier(
        client,
        store,
        clock,
        config.slack.channel or "",
        actions=configured_actions,
        interactive=config.slack.interactive,
    )
    return client, notifier, OutboxWorker(store, notifiers, clock, tally)


def _front(engine: _Engine, load: Callable[[], LoadedConfig]) -> Parts:
    """The parts that answer from the whole (Slack's commands and app, the heartbeat), then
    housekeeping and the reloader, which hands each part its new settings."""
    config, store, clock = engine.config, engine.store, engine.clock
    commands, slack = build_slack(
        engine,
        status=lambda: documents.status(parts),
        reload=lambda user: parts.reloader.from_command(user),
    )
    heartbeat = build_heartbeat(config, engine.http, engine.scheduler, store)
    housekeeping = Housekeeping(
        config, store=store, clock=clock, alerting=engine.alerting, remediation=engine.remediation
    )
    announcer = Announcer(store, clock, engine.alerting.channels, engine.outbox.wake.set)
    targets = ReloadTargets(
        runner=engine.runner,
        alerting=engine.alerting,
        supervisor=engine.supervisor,
        scheduler=engine.scheduler,
        remediation=engine.remediation,
        settings=settings_hooks(engine, commands, heartbeat, housekeeping),
    )
    reloader = Reloader(
        config, load=load, store=store, clock=clock, announcer=announcer, targets=targets
    )
    parts = Parts(
        config=config, clock=clock, out=engine.out, store=store, http=engine.http,
        lag=engine.lag, scheduler=engine.scheduler, outbox=engine.outbox,
        announcer=announcer, alerting=engine.alerting, supervisor=engine.supervisor,
        runner=engine.runner, permissions=engine.permissions, housekeeping=housekeeping,
        reloader=reloader, slack_client=engine.slack_client,
        slack_notifier=engine.slack_notifier, predictor=engine.predictor,
        remediation=engine.remediation, commands=commands, slack=slack, heartbeat=heartbeat,
        regulation=engine.regulation,
        external_alerts=engine.external_alerts,
    )  # fmt: skip
    return parts


def build_slack(
    engine: _Engine,
    *,
    status: Callable[[], dict[str, Any]],
    reload: Callable[[str], Awaitable[str]],
) -> tuple[Commands | None, SlackApp | None]:
    """Slack's commands and app: only when Slack is on and interactive (not in post mode)."""
    config = engine.config
    if engine.slack_client is None or not config.slack.interactive:
        if engine.slack_client is not None:
            log.info(messages.slack_post_mode())
        return None, None
    limits = {spec.name: metric_limits(spec) for spec in config.settings.checks}
    charts = ChartPoster(
        engine.slack_client, engine.store, engine.clock, lambda c: limits.get(c, {})
    )
    commands = Commands(
        charts=charts,
        alerting=engine.alerting,
        store=engine.store,
        clock=engine.clock,
        permissions=engine.permissions,
        status=status,
        run_checks=partial(documents.observation_dicts, engine.runner),
        started_at=engine.clock.now(),
        remediation=engine.remediation,
        admins=config.settings.slack.admins,
        reload=reload,
        predictor=engine.predictor,
        regulation=engine.regulation,
    )
    slack = SlackApp(
        config.slack,
        engine.slack_client,
        commands,
        engine.alerting,
        engine.store,
        engine.remediation,
        engine.supervisor,
        predictor=engine.predictor,
        regulation=engine.regulation,
        charts=charts,
    )
    return commands, slack


def settings_hooks(
    engine: _Engine,
    commands: Commands | None,
    heartbeat: Heartbeat | None,
    housekeeping: Housekeeping,
) -> list[SettingsHook]:
    """How a reload hands its live settings to the parts outside the engine."""

    def slack_people(new: LoadedConfig) -> None:
        slack = new.settings.slack
        engine.permissions.reconfigure(rules=slack.permissions, admins=slack.admins)
        if commands is not None:
            commands.reconfigure(admins=slack.admins)

    hooks: list[SettingsHook] = [slack_people, engine.approvers.reconfigure]
    if heartbeat is not None:
        beat = heartbeat
        hooks.append(
            lambda new: beat.reconfigure(
                every=new.settings.heartbeat.every, timeout=new.settings.heartbeat.timeout
            )
        )
    if engine.external_alerts is not None:
        external = engine.external_alerts
        hooks.append(
            lambda new: (
                new.settings.alertmanager and external.reconfigure(new.settings.alertmanager)
            )
        )
    if engine.slack_notifier is not None and engine.remediation is not None:
        # a reload remakes remediation's actions: delivery offers those same instances again
        notifier, remediation = engine.slack_notifier, engine.remediation
        hooks.append(lambda new: notifier.reconfigure(actions=remediation.actions))
    if engine.regulation is not None:
        regulation = engine.regulation
        hooks.append(
            lambda new: regulation.reconfigure(
                new.settings.regulate, {c.name: c for c in new.settings.checks}
            )
        )
    hooks.append(housekeeping.reconfigure)
    return hooks

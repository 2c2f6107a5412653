"""Makers of single parts, each from the config and the parts it needs (``build`` calls
them in order): checks, notifiers, the HTTP session, the heartbeat, remediation and the
approver groups it asks about, the predictors."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from functools import partial
from typing import TYPE_CHECKING, TextIO

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

import actions
import checks
from actions.base import Action
from bot.clock import Clock
from bot.config import LoadedConfig
from bot.engine.action_context import EngineActionContext, SupervisorControls
from bot.engine.alerting import Alerting
from bot.engine.external_alerts import ExternalAlerts
from bot.engine.heartbeat import Heartbeat
from bot.engine.remediation import Remediation
from bot.engine.remediation_runs import Verification, verification_from
from bot.engine.runner import CheckRunner
from bot.engine.supervisor import Supervisor
from bot.notify.alertmanager import AlertmanagerNotifier
from bot.notify.base import Notifier
from bot.notify.console import ConsoleNotifier
from bot.notify.email import EmailNotifier
from bot.notify.jsonlog import JsonLogNotifier
from bot.notify.outbox import OutboxWorker
from bot.notify.webhook import WebhookNotifier
from bot.records import Incident, Severity
from bot.runtime import documents
from bot.slack.permissions import Permissions
from bot.store import Store
from bot.web.alertmanager import PATH, alertmanager_hook
from checks.base import Check
from common.proxies import proxy_named

if TYPE_CHECKING:
    from bot.engine.predict import Predictor


def build_checks(config: LoadedConfig) -> list[Check]:
    """One check instance per configured entry, from the registry."""
    return [checks.REGISTRY[spec.kind](spec) for spec in config.settings.checks]


def build_notifiers(
    config: LoadedConfig, out: TextIO, http: aiohttp.ClientSession, clock: Clock, store: Store
) -> dict[str, Notifier]:
    """The delivery channels the config turns on (Slack is added by ``build``)."""
    alerts = config.settings.alerts
    notifiers: dict[str, Notifier] = {}
    if alerts.console:
        notifiers["console"] = ConsoleNotifier(out, store)
    if alerts.log is not None:
        notifiers["log"] = JsonLogNotifier(config.data_dir / alerts.log.path, clock=clock)
    if alerts.email is not None:
        notifiers["email"] = EmailNotifier(alerts.email, config.smtp_password, clock=clock)
    if alerts.webhook is not None:
        notifiers["webhook"] = WebhookNotifier(
            alerts.webhook, config.webhook_secret, http, clock=clock
        )
    if alerts.alertmanager is not None:
        notifiers["alertmanager"] = build_alertmanager_notifier(config, http, clock)
    return notifiers


def build_alertmanager_notifier(
    config: LoadedConfig, http: aiohttp.ClientSession, clock: Clock
) -> AlertmanagerNotifier:
    """The Alertmanager channel; never sends back what came from the [alertmanager] hook."""
    channel = config.settings.alerts.alertmanager
    assert channel is not None
    inbound = config.settings.alertmanager
    token = os.environ.get(channel.token_env, "").strip() or None if channel.token_env else None
    return AlertmanagerNotifier(
        channel,
        token,
        http,
        clock=clock,
        skip_check=inbound.check if inbound is not None else None,
    )


def channel_floors(config: LoadedConfig, notifiers: Mapping[str, Notifier]) -> dict[str, Severity]:
    """Each channel's minimum severity for loud notices (console and Slack hear everything)."""
    alerts = config.settings.alerts
    floors = {name: Severity.INFO for name in notifiers}
    for name in ("log", "email", "webhook", "alertmanager"):
        section = getattr(alerts, name)
        if name in notifiers and section is not None:
            floors[name] = Severity(section.min_severity)
    return floors


def build_alerting(
    config: LoadedConfig,
    store: Store,
    clock: Clock,
    outbox: OutboxWorker,
    incident_opened: Callable[[Incident], None],
) -> Alerting:
    """Alerting over the configured checks and channels; it wakes the outbox for each notice
    and, when ``[[actions]]`` are configured, tells remediation of each incident it opens."""
    settings = config.settings
    return Alerting(
        store,
        clock,
        settings.alerts,
        {spec.name: spec for spec in settings.checks},
        channel_floors(config, outbox.notifiers),
        on_queued=outbox.wake.set,
        on_opened=incident_opened if settings.actions else None,
        tally=outbox.tally,  # one count of everything for /metrics
    )


def make_http_session() -> aiohttp.ClientSession:
    """The one shared HTTP client (checks, actions, webhooks, heartbeat, component probes and,
    through its pool, Slack): pooled keep-alive connections, the proxy the environment names
    (``HTTPS_PROXY`` / ``HTTP_PROXY``, except for ``NO_PROXY`` hosts and loopback), and no
    cookies (a check must not carry what another endpoint set, and filtering the jar is work
    on every request).

    aiohttp reads the environment only with ``trust_env``, and then on every request, in two
    trips to a worker thread (the proxy variables, and ``~/.netrc``): over half of a quiet
    selfreg's CPU in ``bench/overhead.py``. So it is on only when a proxy is named."""
    reach_loopback_directly(os.environ)
    connector = aiohttp.TCPConnector(limit=200, limit_per_host=50, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=proxy_named(os.environ),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def reach_loopback_directly(env: MutableMapping[str, str]) -> None:
    """With a proxy set, add loopback to ``NO_PROXY``: a proxy elsewhere cannot reach this
    machine's 127.0.0.1, where components and local endpoints answer."""
    if not proxy_named(env):
        return
    listed = env.get("no_proxy") or env.get("NO_PROXY") or ""
    names = [name.strip() for name in listed.split(",") if name.strip()]
    if "*" in names:
        return
    names += [name for name in LOOPBACK_NAMES if name not in names]
    env["NO_PROXY"] = env["no_proxy"] = ",".join(names)


def build_actions(config: LoadedConfig) -> dict[str, Action]:
    """One action instance per configured ``[[actions]]`` entry, from the registry."""
    return {spec.name: actions.REGISTRY[spec.kind](spec) for spec in config.settings.actions}


def build_supervisor(
    config: LoadedConfig,
    store: Store,
    clock: Clock,
    http: aiohttp.ClientSession,
    alerting: Alerting,
) -> Supervisor:
    """The supervisor of ``[[components]]``; a crash loop opens an incident in alerting."""
    return Supervisor(
        config.settings.components,
        store,
        clock,
        log_dir=config.data_dir / "logs",
        base_dir=config.files[0].parent,
        http=http,
        on_crash_loop=alerting.handle,
    )


def build_heartbeat(
    config: LoadedConfig, http: aiohttp.ClientSession, scheduler: AsyncIOScheduler, store: Store
) -> Heartbeat | None:
    """The heartbeat, with SELFREG_HEARTBEAT_URL: it pings ``/fail`` while unhealthy."""
    if config.heartbeat_url is None:
        return None
    return Heartbeat(
        config.heartbeat_url,
        http,
        lambda: not documents.health_reasons(scheduler, store),
        every=config.settings.heartbeat.every,
        timeout=config.settings.heartbeat.timeout,
    )


class ApproverGroups:
    """Remediation's ``groups_of``: the approver user groups (``S…`` in any action's
    ``approvers``) a person belongs to, asked of Slack through the permissions' cache."""

    def __init__(self, permissions: Permissions, config: LoadedConfig) -> None:
        self.permissions = permissions
        self.groups = _approver_groups(config)

    async def __call__(self, user: str) -> set[str]:
        return {g for g in self.groups if user in await self.permissions.members(g)}

    def reconfigure(self, config: LoadedConfig) -> None:
        """A live reload's actions, and with them their approvers."""
        self.groups = _approver_groups(config)


def _approver_groups(config: LoadedConfig) -> set[str]:
    return {a for spec in config.settings.actions for a in spec.approvers if a.startswith("S")}


async def verify_check(runner: CheckRunner, name: str) -> Verification:
    """Re-run the check now and record it like any run (so a pass resolves the incident)."""
    check = runner.checks[name]
    result = await runner.run_one(check)
    runner.record([result])
    return verification_from(list(result.observations), name)


def build_remediation(
    config: LoadedConfig,
    http: aiohttp.ClientSession,
    alerting: Alerting,
    supervisor: Supervisor,
    runner: CheckRunner,
    approvers: ApproverGroups,
    configured_actions: Mapping[str, Action],
    routed: Callable[[Incident], list[str]] | None = None,
) -> Remediation | None:
    """Actions exist only if configured: no [[actions]], no remediation at all.

    ``configured_actions`` are ``build_actions``'s instances, the ones Slack delivery offers too.
    """
    settings = config.settings
    if not settings.actions:
        return None
    context = EngineActionContext(
        components=SupervisorControls(supervisor),
        http=http,
        logger=logging.getLogger("actions"),
        clock=runner.clock,
        check_state=lambda name: runner.committed.get(name, {}),
    )
    return Remediation(
        store=runner.store,
        clock=runner.clock,
        actions=configured_actions,
        remediations={c.name: list(c.remediate) for c in settings.checks if c.remediate},
        alerting=alerting,
        context=context,
        verify=partial(verify_check, runner),
        groups_of=approvers,
        dry_run=settings.remediation.dry_run,
        routed=routed,
    )


def web_hooks(
    config: LoadedConfig, external: ExternalAlerts | None
) -> dict[str, Callable[[web.Request], Awaitable[web.Response]]]:
    """The hook routes the config turns on: Alertmanager's, its token read from the
    environment now (unset: the route refuses every POST, naming the variable)."""
    section = config.settings.alertmanager
    if external is None or section is None:
        return {}
    token = os.environ.get(section.token_env, "").strip() or None
    return {PATH: alertmanager_hook(external, token, section.token_env)}


def build_predictor(
    config: LoadedConfig, store: Store, clock: Clock, alerting: Alerting
) -> Predictor | None:
    """The predictors, fed by the runner after each write; none when [models] turns all off."""
    settings = config.settings.models
    if not (settings.anomaly or settings.failure_risk or settings.forecast):
        return None
    return make_predictor(config, store, clock, alerting)


def make_predictor(
    config: LoadedConfig, store: Store, clock: Clock, alerting: Alerting
) -> Predictor:
    """A predictor over ``store`` with its saved state loaded (also ``selfreg models`` alone)."""
    # imported only now: a selfreg with every model off needs none of it (scikit-learn
    # is never imported here at all: fits run in a worker process, see bot/engine/predict/fit.py)
    from bot.engine.predict import Predictor

    predictor = Predictor(
        settings=config.settings.models,
        specs={spec.name: spec for spec in config.settings.checks},
        store=store,
        clock=clock,
        alerting=alerting,
        model_dir=config.data_dir / "models",
    )
    predictor.load()
    return predictor

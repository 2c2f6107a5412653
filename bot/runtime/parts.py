"""``Parts``: every part of a running selfreg, built once by ``bot.runtime.build.build``.

A frozen record: the parts are constructed with what they need and none is replaced or
assigned into afterwards. The optional ones are None when the config leaves them out:
Slack off (no client, no delivery to Slack), Slack in post mode (no commands, no app), no
``[[actions]]`` (no remediation), every model off (no predictor), no
``SELFREG_HEARTBEAT_URL`` (no heartbeat).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import aiohttp
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.clock import Clock
    from bot.config import LoadedConfig
    from bot.engine.alerting import Alerting
    from bot.engine.external_alerts import ExternalAlerts
    from bot.engine.heartbeat import Heartbeat
    from bot.engine.notices import Announcer
    from bot.engine.predict import Predictor
    from bot.engine.regulate.make import Regulation
    from bot.engine.reload import Reloader
    from bot.engine.remediation import Remediation
    from bot.engine.runner import CheckRunner
    from bot.engine.supervisor import Supervisor
    from bot.notify.outbox import OutboxWorker
    from bot.runtime.jobs import Housekeeping
    from bot.runtime.lag import LagProbe
    from bot.slack.app import SlackApp
    from bot.slack.commands import Commands
    from bot.slack.delivery import SlackNotifier
    from bot.slack.permissions import Permissions
    from bot.store import Store


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class Parts:
    """selfreg's parts, in the order ``build`` makes them."""

    config: LoadedConfig  # the config selfreg started on (the reloader holds the current one)
    clock: Clock
    out: TextIO
    store: Store
    http: aiohttp.ClientSession
    lag: LagProbe
    scheduler: AsyncIOScheduler  # built here, started by the monitors step
    outbox: OutboxWorker
    announcer: Announcer
    alerting: Alerting
    supervisor: Supervisor
    runner: CheckRunner
    permissions: Permissions
    housekeeping: Housekeeping
    reloader: Reloader
    slack_client: AsyncWebClient | None = None
    slack_notifier: SlackNotifier | None = None
    predictor: Predictor | None = None
    remediation: Remediation | None = None
    commands: Commands | None = None
    slack: SlackApp | None = None
    heartbeat: Heartbeat | None = None
    external_alerts: ExternalAlerts | None = None  # with [alertmanager]: its webhook's alerts
    regulation: Regulation | None = None  # scale rules, detectors, plan (bot/engine/regulate)

"""The Slack half of selfreg, built in the test's event loop against the Slack stand-in.

``selfreg`` builds the real parts the way ``Runtime.start_services`` wires them: a real
store on a file, a real ``CheckRunner`` and ``Alerting``, an ``OutboxWorker`` with a real
``SlackNotifier``, ``Permissions``, ``Commands`` and ``SlackApp``, all around one
``AsyncWebClient`` pointed at the stand-in on 127.0.0.1. No socket is opened: a test hands
Bolt its request through ``AsyncApp.async_dispatch``, with a payload the stand-in builds the
way Slack does, and delivers the outbox by calling ``deliver_due`` itself. The construction
lives in ONE fixture (``selfreg``) so that a change of constructors is adapted in one place.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import checks
from bot.config import load_settings
from bot.control import observation_dict
from bot.engine.alerting import Alerting
from bot.engine.runner import CheckRunner
from bot.engine.status import build_status
from bot.notify.outbox import OutboxWorker
from bot.records import Severity
from bot.slack import delivery
from bot.slack.app import SlackApp
from bot.slack.client import check_token, make_client
from bot.slack.commands import Commands
from bot.slack.delivery import SlackNotifier
from bot.slack.permissions import Permissions
from bot.store import Store
from tests.support.clock import FakeClock
from tests.support.servers import free_port, tcp_listener
from tests.support.slack_inprocess import Selfreg
from tests.support.slack_selfreg import CHANNEL
from tests.support.slack_standin import SlackEmulator

PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")

# Bob is the admin; silences are for the on-call group (Alice); Mallory may only look.
CONFIG = """
[slack]
admins = ["U0BOB"]
permissions = {{ silence = ["S0ONCALL"] }}

[alerts]
console = false
update_every = "1s"

[[checks]]
kind = "tcp"
name = "db"
host = "127.0.0.1"
port = {closed}
interval = "1s"
open_after = 1

[[checks]]
kind = "tcp"
name = "cache"
host = "127.0.0.1"
port = {open}
interval = "1s"
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk reads proxy variables (and ignores NO_PROXY); Bolt reads SLACK_*."""
    for name in list(os.environ):
        if name in PROXY_VARS or name.startswith(("SLACK_", "SELFREG_")):
            monkeypatch.delenv(name)


@pytest.fixture
def live_port() -> Iterator[int]:
    """A TCP service on 127.0.0.1 that accepts connections: the ``cache`` check passes."""
    with tcp_listener() as listener:
        yield listener.getsockname()[1]


@pytest.fixture
async def selfreg(
    emu: SlackEmulator,
    store: Store,
    clock: FakeClock,
    http: aiohttp.ClientSession,
    tmp_path: Path,
    live_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> Selfreg:
    """The parts wired as ``Runtime.start_services`` wires them, on the test's loop."""
    # one message a second per channel is Slack's rate; here it would only slow the tests
    monkeypatch.setattr(delivery, "PACE", 0.0)
    path = tmp_path / "selfreg.toml"
    path.write_text(CONFIG.format(closed=free_port(), open=live_port))
    config = load_settings(
        str(path),
        {
            "SELFREG_DATA_DIR": str(tmp_path / "data"),
            "SLACK_BOT_TOKEN": emu.config.bot_token,
            "SLACK_APP_TOKEN": emu.config.app_token,
            "SLACK_API_URL": emu.base_url,
            "SLACK_CHANNEL": CHANNEL,
        },
    )
    client = make_client(config.slack)
    await check_token(client)

    def delivery_parts() -> tuple[SlackNotifier, OutboxWorker]:
        """Slack delivery as a (re)started selfreg builds it; a restart calls this again."""
        notifier = SlackNotifier(
            client, store, clock, config.slack.channel or "", interactive=config.slack.interactive
        )
        return notifier, OutboxWorker(store, {"slack": notifier}, clock)

    notifier, outbox = delivery_parts()
    alerting = Alerting(
        store,
        clock,
        config.settings.alerts,
        {spec.name: spec for spec in config.settings.checks},
        {"slack": Severity.INFO},
    )
    runner = CheckRunner(
        checks=[checks.REGISTRY[spec.kind](spec) for spec in config.settings.checks],
        store=store,
        clock=clock,
        http=http,
        alerting=alerting,
    )
    permissions = Permissions(
        config.settings.slack.permissions, config.settings.slack.admins, client
    )
    reloads: list[str] = []

    async def reload(user: str) -> str:  # the Reloader needs a whole runtime: only its door
        reloads.append(user)
        return "config reloaded: no changes"

    async def run_checks(names: Any) -> list[dict[str, Any]]:
        return [observation_dict(o) for r in await runner.run_now(names) for o in r.observations]

    commands = Commands(
        alerting=alerting,
        store=store,
        clock=clock,
        permissions=permissions,
        status=lambda: build_status(runner.latest, [], running=True, now=clock.now()),
        run_checks=run_checks,
        started_at=clock.now(),
        admins=config.settings.slack.admins,
        reload=reload,
    )
    slack = SlackApp(config.slack, client, commands, alerting, store)
    return Selfreg(
        emu=emu,
        store=store,
        clock=clock,
        config=config,
        client=client,
        runner=runner,
        alerting=alerting,
        notifier=notifier,
        outbox=outbox,
        commands=commands,
        slack=slack,
        reloads=reloads,
        delivery_parts=delivery_parts,
    )

"""Deploy tracking: a new release a check saw is announced once and remembered as an event;
an incident that opens soon after it says so, and may be answered with a rollback.

The ``fly`` check reports a deploy on its observation (``Observation.deploy``: the check keeps
the release it last saw in its own state, so neither its first run nor a restart of selfreg
is taken for a deploy). ``Deploys.seen`` runs in the runner's transaction, before alerting
hears of the same runs: the event row (``release.deployed``) and the notice commit with the
run that saw the deploy. ``deploy_before`` is the one read of those rows: the latest deploy
whose window covers a moment and whose check list names a check. Alerting words the opened
notice with it, Slack delivery puts the line on the incident message and the rollback label on
its button, and remediation proposes the app's rollback actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from actions.base import Action
from bot import messages
from bot.engine.notices import Announcer
from bot.records import EventKind
from bot.store import events
from bot.store.db import Store
from checks.base import Observation

_LOOK_BACK = 86400.0  # no deploy window is longer than a day


@dataclass(frozen=True, kw_only=True, slots=True)
class SeenDeploy:
    """A deploy as stored: the release, when it was seen, and whose incidents it concerns."""

    app: str
    version: str
    previous: str
    at: float
    window: float
    checks: tuple[str, ...]

    def note(self, opened_at: float) -> str:
        """The line an incident opened at ``opened_at`` carries."""
        return messages.after_deploy(self.version, max(0.0, opened_at - self.at))


class Deploys:
    """Records each deploy a check reports and announces it."""

    def __init__(self, store: Store, announcer: Announcer) -> None:
        self.store = store
        self.announcer = announcer

    def seen(self, observation: Observation) -> None:
        """One observation that carries a deploy: an event row and a notice."""
        deploy = observation.deploy
        if deploy is None:
            return
        with self.store.transaction():
            self.store.record_event(
                EventKind.DEPLOYED,
                deploy.app,
                observation.at,
                version=deploy.version,
                previous=deploy.previous,
                regions=list(deploy.regions),
                machines=deploy.machines,
                window=deploy.window,
                checks=list(deploy.checks),
            )
            text = messages.deployed(
                deploy.app, deploy.version, deploy.previous, deploy.regions, deploy.machines
            )
            self.announcer.post(text, topic="deploy")


def deploy_before(store: Store, check: str, at: float) -> SeenDeploy | None:
    """The latest deploy concerning ``check`` whose window covers ``at``; None if none."""
    for app, seen_at, detail in events.recent(store, EventKind.DEPLOYED, at - _LOOK_BACK, at):
        checks = tuple(detail.get("checks") or ())
        window = float(detail.get("window") or 0)
        if check in checks and at - seen_at <= window:
            return SeenDeploy(
                app=app,
                version=str(detail.get("version", "")),
                previous=str(detail.get("previous", "")),
                at=seen_at,
                window=window,
                checks=checks,
            )
    return None


def rollbacks_for(deploy: SeenDeploy, actions: Mapping[str, Action]) -> list[str]:
    """The configured actions that undo deploys of the deploy's app, by name."""
    return sorted(name for name, a in actions.items() if a.undoes_deploys_of() == deploy.app)

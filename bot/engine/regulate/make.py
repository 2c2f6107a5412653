"""``Regulation``: the scale rules, the detectors and the planner of one selfreg, made by
``make_regulation``; None without ``[[actions]]`` (no remediation to move through)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot import messages
from bot.config import Settings
from bot.config.regulate import RegulateSettings
from bot.engine.alerting import Alerting
from bot.engine.regulate.detecting import Detectors
from bot.engine.regulate.moves import Mover
from bot.engine.regulate.planning import Planner
from bot.engine.regulate.scaling import Scaler
from bot.engine.remediation import Remediation
from bot.engine.supervisor import Supervisor
from bot.errors import UserError
from bot.records import SLACK_DOOR, Door
from checks.base import CheckSpec, Observation


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class Regulation:
    """The parts of regulation; the runtime feeds ``observe`` and schedules the jobs."""

    scaler: Scaler
    mover: Mover
    detectors: Detectors
    planner: Planner

    def observe(self, observations: Sequence[Observation]) -> None:
        self.scaler.observe(observations)

    def command(self, verb: str, argument: str, actor: str, door: Door = SLACK_DOOR) -> str:
        """``plan schedule|cancel ID`` and ``plan pause|resume`` from the CLI or Slack: the
        answer to show (a ``UserError`` for what cannot be done); ``door`` goes in the audit."""
        if verb in ("pause", "resume"):
            self.mover.pause(actor, verb == "pause", door=door)
            return messages.regulation_paused_by(verb == "pause", actor)
        number = argument.strip("/#")
        if not number.isdigit():
            raise UserError(messages.plan_usage())
        if verb == "schedule":
            run = self.planner.schedule(int(number), actor, door)
            return messages.plan_scheduled_answer(run.id, run.run_at)
        self.planner.cancel(int(number), actor, door)
        return messages.plan_cancelled(int(number), actor)

    def reconfigure(self, settings: RegulateSettings, specs: Mapping[str, CheckSpec]) -> None:
        """A live reload's ``[regulate]`` and checks."""
        self.scaler.reconfigure(settings)
        self.detectors.reconfigure(settings, specs)
        self.planner.reconfigure(settings, specs)


def make_regulation(
    config: Settings,
    alerting: Alerting,
    remediation: Remediation | None,
    supervisor: Supervisor,
) -> Regulation | None:
    """Over alerting's store and clock; fed by the runner, its jobs added at start."""
    if remediation is None:
        return None
    settings, specs = config.regulate, {c.name: c for c in config.checks}
    store, clock = alerting.store, alerting.clock
    parts = {"store": store, "clock": clock, "alerting": alerting, "remediation": remediation}
    mover = Mover(settings=settings, **parts)
    planner = Planner(settings=settings, specs=specs, **parts)

    def instances(component: str) -> int | None:
        """A local component's running instances; None for a Fly app (its action knows)."""
        if component not in supervisor.components:
            return None
        return len(supervisor.components[component].instances)

    return Regulation(
        scaler=Scaler(clock=clock, settings=settings, mover=mover, instances=instances),
        mover=mover,
        detectors=Detectors(settings=settings, specs=specs, planner=planner, mover=mover, **parts),
        planner=planner,
    )

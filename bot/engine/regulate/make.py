"""``make_scaler``: the scale rules' part, or None when there is nothing to regulate (no
``[[regulate.scale]]`` rules, or no ``[[actions]]`` and so no remediation to move through)."""

from __future__ import annotations

from bot.clock import Clock
from bot.config.regulate import RegulateSettings
from bot.engine.alerting import Alerting
from bot.engine.regulate.moves import Mover
from bot.engine.regulate.scaling import Scaler
from bot.engine.remediation import Remediation
from bot.engine.supervisor import Supervisor
from bot.store.db import Store


def make_scaler(
    settings: RegulateSettings,
    *,
    store: Store,
    clock: Clock,
    alerting: Alerting,
    remediation: Remediation | None,
    supervisor: Supervisor,
) -> Scaler | None:
    if remediation is None or not settings.scale:
        return None
    mover = Mover(
        store=store, clock=clock, alerting=alerting, remediation=remediation, settings=settings
    )

    def instances(component: str) -> int | None:
        """A local component's running instances; None for a Fly app (its action knows)."""
        if component not in supervisor.components:
            return None
        return len(supervisor.components[component].instances)

    return Scaler(clock=clock, settings=settings, mover=mover, instances=instances)

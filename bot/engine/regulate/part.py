"""``Part``: what every regulation part (mover, planner, detectors) works over, and how a live
reload hands it the new ``[regulate]`` section and checks."""

from __future__ import annotations

from collections.abc import Mapping

from bot.clock import Clock
from bot.config.regulate import RegulateSettings
from bot.engine.alerting import Alerting
from bot.engine.remediation import Remediation
from bot.store.db import Store
from checks.base import CheckSpec


class Part:
    """The store, clock, alerting (incidents and threads), remediation (the one gate)."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        alerting: Alerting,
        remediation: Remediation,
        settings: RegulateSettings,
        specs: Mapping[str, CheckSpec] | None = None,
    ) -> None:
        self.store, self.clock, self.alerting = store, clock, alerting
        self.remediation, self.settings, self.specs = remediation, settings, dict(specs or {})

    def reconfigure(self, settings: RegulateSettings, specs: Mapping[str, CheckSpec]) -> None:
        self.settings, self.specs = settings, dict(specs)

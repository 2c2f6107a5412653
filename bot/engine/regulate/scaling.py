"""Adaptive scaling: each ``[[regulate.scale]]`` rule watches one metric of one check and,
through ``band.step``'s hysteresis, asks for a move; ``Mover`` turns the move into a proposal
on the rule's regulation incident (and, in auto mode, approves it through the gate).

Fed by the runner right after each write (``observe``, beside the predictor), so the signal is
exactly what was recorded. A forecast crossing of ``high`` within ``forecast`` counts as above
(the same Theil-Sen line the forecast incidents use, ``models.forecast``, fitted over twice
times the rule's horizon).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot import messages
from bot.clock import Clock
from bot.config.regulate import RegulateSettings, ScaleRule
from bot.engine.regulate import band
from bot.engine.regulate.moves import Mover, Signal
from checks.base import Observation, Status

if TYPE_CHECKING:
    from models.forecast import Forecaster

log = logging.getLogger(__name__)

RECENT = 10
"""Samples of the signal kept with each decision (the evidence)."""

TREND = 2.0
"""The forecast's trend is fitted over this many times the rule's ``forecast`` horizon."""

Instances = Callable[[str], int | None]
"""How many instances a rule's component runs now (None: not known here, e.g. a Fly app)."""


class Scaler:
    """Every scale rule's state; one sample at a time."""

    def __init__(
        self,
        *,
        clock: Clock,
        settings: RegulateSettings,
        mover: Mover,
        instances: Instances,
    ) -> None:
        self.clock = clock
        self.mover = mover
        self.instances = instances
        self.rules: list[ScaleRule] = []
        self.states: dict[str, band.BandState] = {}
        self.recent: dict[str, deque[float]] = {}
        self.forecasters: dict[str, Forecaster] = {}  # made for each rule with ``forecast``
        self.reconfigure(settings)

    def reconfigure(self, settings: RegulateSettings) -> None:
        """A live reload's rules; an unchanged rule keeps its state."""
        self.rules = list(settings.scale)
        names = {r.name for r in self.rules}
        self.states = {k: v for k, v in self.states.items() if k in names}
        self.forecasters = {}  # a changed horizon changes the trend's window
        self.mover.settings = settings  # the budgets

    def observe(self, observations: Sequence[Observation]) -> None:
        """The runner's hook: feed each rule the sample of its metric; never raises."""
        try:
            for o in observations:
                if o.status is Status.UNKNOWN:
                    continue
                for rule in self.rules:
                    if (rule.check, rule.subject) == (
                        o.check,
                        o.subject,
                    ) and rule.metric in o.values:
                        self.sample(rule, float(o.values[rule.metric]), o.at)
        except Exception:  # regulation failing must never break the checks' loop
            log.exception(messages.regulation_failed())

    def _forecast(self, rule: ScaleRule, value: float, at: float) -> float | None:
        """Seconds until the signal's trend reaches ``high`` (None: no forecast). The trend is
        fitted over ``TREND`` times the rule's ``forecast`` horizon: a rule that looks 10 s
        ahead follows the last 20 s, one that looks 12 min ahead the last 24 min."""
        if rule.forecast is None:
            return None
        forecaster = self.forecasters.get(rule.name)
        if forecaster is None:
            from models.forecast import Forecaster  # numpy: only when a rule forecasts

            window = TREND * rule.forecast
            forecaster = self.forecasters[rule.name] = Forecaster(
                window=window, min_points=10, reach=4.0
            )
        forecaster.observe(rule.name, at, value)
        forecast = forecaster.eta(rule.name, rule.high, at)
        return forecast.eta_seconds if forecast is not None else None

    def sample(self, rule: ScaleRule, value: float, at: float) -> None:
        """One sample of a rule's signal: hold, resolve, or move."""
        recent = self.recent.setdefault(rule.name, deque(maxlen=RECENT))
        recent.append(value)
        eta = self._forecast(rule, value, at)
        self.mover.check_breaker(rule.name)
        count = self.instances(self.mover.component_of(rule.up))
        before = self.states.get(rule.name, band.BandState())
        state, want = band.step(rule, before, value, at, forecast_eta=eta, instances=count)
        signal = Signal(
            rule=rule,
            value=value,
            recent=tuple(recent),
            forecast_eta=eta,
            instances=count,
        )
        if want is None:
            if state.settled and not before.settled:
                self.mover.settled(signal)
        elif self.mover.move(signal, want):
            state = band.moved(state, at, want.direction)
        self.states[rule.name] = state

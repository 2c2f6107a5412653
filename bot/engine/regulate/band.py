"""The pure hysteresis of a scale rule: when does a signal ask for a move?

Hysteresis is a duration, like Prometheus's ``for:``: a scale-up is wanted once the signal has
been above the band (or its forecast crossing of ``high`` within ``forecast`` has been due)
for ``up_for``, from the first sample outside to this one, and a scale-down once it has been
below for ``down_for`` (scale up fast, down slowly); one sample back inside starts the clock
again. Never within ``cooldown`` of the previous move, never past the rule's bounds, and no
second scale-up while the signal is already easing after one (its last sample lower than the
one before: the previous move is taking effect). After a move the clocks start again, so the
effect of the move is measured before the next one. Together with the gap between ``low`` and
``high`` this is what keeps a rule from flapping.

A ``proportional`` rule's signal is a load per instance (a utilisation, a queue per worker):
with ``n`` instances, one fewer would see it about ``n / (n - 1)`` times higher. Such a rule
also counts a sample as "below" when one instance fewer would still keep the signal at or
under the middle of the band, so the pool shrinks as soon as it safely can instead of waiting
for the signal to fall under ``low`` (where one instance fewer may not be enough any more).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.config.regulate import ScaleRule

UP, DOWN = 1, -1


@dataclass(frozen=True, slots=True)
class BandState:
    """What one rule remembers between samples: since when the signal is on its side."""

    above_since: float | None = None
    below_since: float | None = None
    inside_since: float | None = None
    settled: bool = True  # back inside for ``up_for`` after an excursion (said once)
    previous: float | None = None
    last_move_at: float | None = None
    last_direction: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Want:
    """A move the signal asks for: ``direction`` UP or DOWN, ``why`` above / below / fits /
    forecast, ``lasted`` how long the signal has been on that side (seconds)."""

    direction: int
    why: str
    lasted: float


def fits_fewer(rule: ScaleRule, value: float, instances: int | None) -> bool:
    """A proportional rule's signal would stay at or under the band's middle with one
    instance fewer (never below ``min``)."""
    if not rule.proportional or instances is None or instances <= max(rule.min, 1):
        return False
    return value * instances / (instances - 1) <= (rule.low + rule.high) / 2


def _since(current: float | None, now: float, holds: bool) -> float | None:
    return (current if current is not None else now) if holds else None


def step(
    rule: ScaleRule,
    state: BandState,
    value: float,
    at: float,
    *,
    forecast_eta: float | None = None,
    instances: int | None = None,
) -> tuple[BandState, Want | None]:
    """One sample: the new state, and the move wanted now (None: hold)."""
    forecast = (
        rule.forecast is not None and forecast_eta is not None and forecast_eta <= rule.forecast
    )
    fits = value <= rule.high and fits_fewer(rule, value, instances)
    above = _since(state.above_since, at, value > rule.high or forecast)
    below = _since(state.below_since, at, (value < rule.low or fits) and not forecast)
    inside = _since(state.inside_since, at, rule.low <= value <= rule.high and not forecast)
    easing = (
        state.last_direction == UP and state.previous is not None and value < state.previous
    )  # the last scale-up is taking effect
    settled = state.settled or (inside is not None and at - inside >= rule.up_for)
    state = replace(
        state, above_since=above, below_since=below, inside_since=inside, previous=value,
        settled=settled,
    )  # fmt: skip
    if state.last_move_at is not None and at - state.last_move_at < rule.cooldown:
        return state, None
    if (
        above is not None
        and at - above >= rule.up_for
        and not easing
        and (instances is None or instances < rule.max)
    ):
        why = "above" if value > rule.high else "forecast"
        return state, Want(direction=UP, why=why, lasted=at - above)
    if (
        below is not None
        and at - below >= rule.down_for
        and rule.down is not None
        and (instances is None or instances > rule.min)
    ):
        why = "below" if value < rule.low else "fits"
        return state, Want(direction=DOWN, why=why, lasted=at - below)
    return state, None


def moved(state: BandState, at: float, direction: int) -> BandState:
    """The state after a move (or a proposal of one): the clocks restart, the cool-down
    begins, and the rule's incident waits to be settled."""
    return BandState(
        previous=state.previous, last_move_at=at, last_direction=direction, settled=False
    )

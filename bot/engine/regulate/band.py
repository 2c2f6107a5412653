"""The pure hysteresis of a scale rule: when does a signal ask for a move?

A move is wanted only after ``samples`` consecutive samples on the same side outside the band
(``down_samples`` below it: scale up fast, down slowly; a forecast crossing of ``high`` within
``forecast`` counts as above), never within ``cooldown`` of the previous move, never past the
rule's bounds, and no scale-up while the signal is already easing (its last sample lower than
the one before: the previous move is taking effect). After a move the counts
start again, so the effect of the move is measured before the next one. Together with the gap
between ``low`` and ``high`` this is what keeps a rule from flapping.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.config.regulate import ScaleRule

UP, DOWN = 1, -1


@dataclass(frozen=True, slots=True)
class BandState:
    """What one rule remembers between samples."""

    above: int = 0
    below: int = 0
    inside: int = 0
    previous: float | None = None
    last_move_at: float | None = None
    last_direction: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Want:
    """A move the signal asks for: ``direction`` UP or DOWN, ``why`` above / below / forecast."""

    direction: int
    why: str
    streak: int


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
    above = state.above + 1 if value > rule.high or forecast else 0
    below = state.below + 1 if value < rule.low else 0
    inside = state.inside + 1 if not (above or below) else 0
    easing = state.previous is not None and value < state.previous  # the last move works
    state = replace(state, above=above, below=below, inside=inside, previous=value)
    if state.last_move_at is not None and at - state.last_move_at < rule.cooldown:
        return state, None
    if above >= rule.samples and not easing and (instances is None or instances < rule.max):
        why = "above" if value > rule.high else "forecast"
        return state, Want(direction=UP, why=why, streak=above)
    if (
        below >= (rule.down_samples or rule.samples)
        and rule.down is not None
        and (instances is None or instances > rule.min)
    ):
        return state, Want(direction=DOWN, why="below", streak=below)
    return state, None


def moved(state: BandState, at: float, direction: int) -> BandState:
    """The state after a move (or a proposal of one): counts restart, the cool-down begins."""
    return BandState(previous=state.previous, last_move_at=at, last_direction=direction)

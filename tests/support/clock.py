"""The clock tests use instead of sleeping: it moves only when told to."""

from __future__ import annotations


class FakeClock:
    """A ``bot.clock.Clock`` that stands still until ``advance`` moves it."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

"""The injected clock: every piece of time-dependent logic asks one of these for ``now``."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of wall-clock time in epoch seconds."""

    def now(self) -> float:
        """The current time in epoch seconds."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

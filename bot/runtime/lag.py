"""The event loop's own lag: how late the loop wakes a sleeper (in /health and engine stats)."""

from __future__ import annotations

import asyncio

LAG_PROBE_EVERY = 2.0  # one wake every 2 s: lag is still seen, at a quarter of a ms per wake


class LagProbe:
    """Measures how late the loop wakes a sleeper: the event loop's own lag."""

    def __init__(self) -> None:
        self.latest = 0.0
        self.worst = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + LAG_PROBE_EVERY
            await asyncio.sleep(LAG_PROBE_EVERY)
            self.latest = max(loop.time() - expected, 0.0)
            self.worst = max(self.worst, self.latest)

    def take_worst(self) -> float:
        """The worst lag since the previous call."""
        worst, self.worst = max(self.worst, self.latest), 0.0
        return worst

"""One interval's round of checks: when each starts, and when its result is recorded.

``start_offsets`` spreads the starts of the checks that open connections to one server; ``Round`` hands a
run that changes a status to the runner the moment it ends (written on the loop's next turn with the
others that end in this one) and writes the steady rest together at the deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

R = TypeVar("R")  # the runner's result of one check run (``runner.RunResult``)


class Recorder(Protocol[R]):
    """What a round needs of the runner."""

    def changes_status(self, result: R) -> bool: ...

    def record(self, results: Sequence[R]) -> None: ...

    def record_soon(self, result: R) -> None: ...


SPREAD_SHARE = 0.1  # an interval's checks start within this share of it ...
SPREAD_MAX = 0.2  # ... and within this many seconds
SPREAD_SLOT = 0.005  # starts closer than this share one wake-up of the loop ...
SPREAD_PER_SLOT = 2  # ... and up to this many share one: fewer loop wake-ups


def start_offsets(servers: Mapping[str, str], interval: float) -> dict[str, float]:
    """When, after the interval's turn, each of its checks that will open a connection
    starts (``servers``: check name -> the server it connects to, ``Check.server``).

    Started all at once, 20 or more connections reach a server at the same instant, and a
    small one (Python's ``http.server`` listens with a backlog of 5) drops the SYNs it has no
    room for; each dropped SYN costs a 1 s retransmit, which the check would report as a slow
    or timed-out endpoint. So the checks of one server start evenly over the first tenth of
    the interval (at most 200 ms), in name order (the same config always gives a check the
    same moment), two to a slot, slots at least 5 ms apart: a listen queue of 5 takes them
    even when two intervals' rounds fall on the same moment (four measured fine, eight
    overflow it). A server with at most two checks has nothing to spread: they start at
    once, like the checks of other servers (each spread start is a wake-up of the loop that
    a batch shares: 50 checks of 50 servers cost 5 ms of CPU a round less started together).
    """
    by_server: dict[str, list[str]] = {}
    for name, server in servers.items():
        by_server.setdefault(server, []).append(name)
    window = min(interval * SPREAD_SHARE, SPREAD_MAX)
    offsets: dict[str, float] = {}
    for names in by_server.values():
        slots = max(1, min(-(-len(names) // SPREAD_PER_SLOT), int(window / SPREAD_SLOT)))
        ordered = sorted(names)
        for rank, name in enumerate(ordered):
            offsets[name] = window * (rank * slots // len(ordered)) / slots
    return offsets


class Round(Generic[R]):
    """How one interval's results are recorded. A run that changes a status is handed to the
    runner the moment it ends (``record_soon``: written on the loop's next turn, with the other
    runs that end in this one): it may open or resolve an incident, and its alert must not wait
    for the slowest check of the interval. The steady rest is written at the interval's
    deadline in one transaction; a run still going then is handed over like a change."""

    def __init__(self, runner: Recorder[R]) -> None:
        self.runner = runner
        self.handled: set[asyncio.Task[R]] = set()
        self.closed = False

    def finished(self, task: asyncio.Task[R]) -> None:
        """A run ended (a task done callback): hand it over now if it changes a status, or
        if the interval's batch has been written already."""
        if task in self.handled or task.cancelled():
            return
        result = task.result()  # run_one never raises
        if self.closed or self.runner.changes_status(result):
            self.handled.add(task)
            self.runner.record_soon(result)

    def close(self, done: Collection[asyncio.Task[R]]) -> None:
        """The interval's deadline: write every finished run not written yet, together."""
        self.closed = True
        batch = [t.result() for t in done if t not in self.handled and not t.cancelled()]
        self.handled.update(done)
        self.runner.record(batch)

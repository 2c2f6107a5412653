"""One interval's round of checks: when each result is recorded.

``Round`` hands a run that changes a status to the runner the moment it ends (written on the
loop's next turn with the others that end in this one) and writes the steady rest together at
the deadline. When each check starts is ``start_lines``'.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from typing import Generic, Protocol, TypeVar

R = TypeVar("R")  # the runner's result of one check run (``runner.RunResult``)


class Recorder(Protocol[R]):
    """What a round needs of the runner."""

    def changes_status(self, result: R) -> bool: ...

    def record(self, results: Sequence[R]) -> None: ...

    def record_soon(self, result: R) -> None: ...


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

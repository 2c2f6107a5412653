"""Keep each run of a ``sync`` check as a ``sync_runs`` row (files, bytes, duration, exit).

The sync is a check (``checks/sync.py``), so its status, samples and incidents go the way of
every check; this adds the run log an operator asks for ("what did last night's sync copy?").
Called by the runner after each write (``CheckRunner.on_recorded``), in its own transaction:
a failure here is logged and never touches the check's own record.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence

from bot.store import sync_runs
from bot.store.db import Store
from checks.base import Check, Observation

log = logging.getLogger(__name__)

KIND = "sync"


class SyncRunLog:
    """Writes a ``sync_runs`` row for every observation of a check of kind ``sync``."""

    def __init__(self, store: Store, checks: Callable[[], Mapping[str, Check]]) -> None:
        self.store = store
        self.checks = checks  # the runner's checks now (a reload may change them)

    def recorded(self, observations: Sequence[Observation]) -> None:
        current = self.checks()
        runs = [
            as_run(o)
            for o in observations
            if (check := current.get(o.check)) is not None and check.spec.kind == KIND
        ]
        try:
            sync_runs.record(self.store, runs)
        except sqlite3.Error:
            log.exception("could not record %d sync runs", len(runs))


def as_run(observation: Observation) -> sync_runs.SyncRun:
    """The row of one sync observation; numbers it lacks (a refused source) stay None."""
    values = observation.values

    def whole(name: str) -> int | None:
        return int(values[name]) if name in values else None

    return sync_runs.SyncRun(
        name=observation.check,
        at=observation.at,
        status=observation.status.value,
        files=whole("files"),
        bytes=whole("bytes"),
        duration=values.get("duration"),
        exit_status=whole("exit_status"),
        summary=observation.summary,
    )


class Chain:
    """One ``on_recorded`` callback calling each given one in turn (None ones left out)."""

    def __init__(self, *callbacks: Callable[[Sequence[Observation]], None] | None) -> None:
        self.callbacks = tuple(c for c in callbacks if c is not None)

    def __call__(self, observations: Sequence[Observation]) -> None:
        for callback in self.callbacks:
            callback(observations)

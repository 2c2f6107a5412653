"""The engine's side of the check contract: ``CheckContext`` and ``StateStore``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.clock import Clock
from checks.base import ProcessTable


class CheckState:
    """One check's key-value state: the committed values plus this run's pending writes.

    The engine commits ``pending`` in the same transaction as the run's observation, so a
    crash between reading a log and recording what was read repeats nothing and skips nothing.
    A dry run (``selfreg health``, ``selfreg check run``) simply never commits.
    """

    def __init__(self, committed: Mapping[str, Any]) -> None:
        self._committed = committed
        self.pending: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.pending:
            return self.pending[key]
        return self._committed.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.pending[key] = value

    def keys(self) -> list[str]:
        return sorted(set(self._committed) | set(self.pending))


@dataclass(kw_only=True, slots=True)
class RunContext:
    """What one check run is handed (see ``checks.base.CheckContext``)."""

    http: aiohttp.ClientSession
    processes: ProcessTable
    state: CheckState
    logger: logging.Logger
    clock: Clock
    stats: Callable[[], Mapping[str, float]] = field(default=dict)

    def now(self) -> float:
        return self.clock.now()

    def engine_stats(self) -> Mapping[str, float]:
        return self.stats()

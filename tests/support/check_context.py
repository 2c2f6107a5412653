"""Build the real ``RunContext`` a check is handed, and commit its state the way the engine does.

The engine commits a run's pending state writes together with its observation; a dry run never
commits. Tests do the same by hand: ``committed = commit(ctx.state)`` after a run that counts,
and ``make_context(..., committed=committed)`` for the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.clock import Clock, SystemClock
from bot.engine.context import CheckState, RunContext
from bot.engine.proctable import ProcessTableCache, ProcessTableView


def make_context(
    http: aiohttp.ClientSession,
    *,
    committed: Mapping[str, Any] | None = None,
    processes: ProcessTableView | None = None,
    clock: Clock | None = None,
    name: str = "check",
) -> RunContext:
    """A context over the real engine parts; a fresh process table view unless one is given."""
    return RunContext(
        http=http,
        processes=processes if processes is not None else ProcessTableCache().snapshot(),
        state=CheckState(dict(committed or {})),
        logger=logging.getLogger(f"selfreg.check.{name}"),
        clock=clock if clock is not None else SystemClock(),
    )


def commit(state: CheckState) -> dict[str, Any]:
    """The committed state after this run: the previous values merged with the run's writes."""
    return {key: state.get(key) for key in state.keys()}  # noqa: SIM118 (not a dict)

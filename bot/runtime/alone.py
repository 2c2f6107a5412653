"""Checks run once in this process, recording nothing: ``selfreg check run`` and ``health``
when no instance is running."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.clock import SystemClock
from bot.config import LoadedConfig
from bot.engine.runner import CheckRunner
from bot.errors import UnknownCheck
from bot.runtime.factories import build_checks, make_http_session
from bot.store import open_store
from checks.base import Observation


async def run_checks_alone(config: LoadedConfig, names: Sequence[str] | None) -> list[Observation]:
    """Run checks once in this process, recording nothing: no instance is running.

    Log offsets and other check state are read from the store when it exists, so a log
    check reports what is new since the running instance last looked, and never advances.
    """
    known = {spec.name for spec in config.settings.checks}
    if names is not None and (missing := [n for n in names if n not in known]):
        raise UnknownCheck(missing[0], sorted(known))
    path = config.db_path
    store = open_store(path, readonly=True) if path.exists() else open_store(Path(":memory:"))
    try:
        async with make_http_session() as http:
            runner = CheckRunner(
                checks=build_checks(config), store=store, clock=SystemClock(), http=http
            )
            results = await runner.run_now(names)
    finally:
        store.close()
    return [o for r in results for o in r.observations]

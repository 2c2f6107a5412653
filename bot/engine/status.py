"""The status document: every check's latest state, the components, what is failing.

One shape for ``/status``, the control socket and ``selfreg status``, whether it comes from
the running engine's memory or, when selfreg is not running, from the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from bot.records import LatestState
from bot.store.components import summaries
from bot.store.db import Store
from bot.store.state import load_latest
from checks.base import Status


def _state_dict(state: LatestState) -> dict[str, Any]:
    row = asdict(state)
    row["status"] = state.status.value
    row["confirmed"] = state.confirmed.value
    row["values"] = dict(state.values)
    return row


def build_status(
    latest: Mapping[tuple[str, str], LatestState],
    components: Iterable[Mapping[str, Any]],
    *,
    running: bool,
    now: float,
) -> dict[str, Any]:
    """The status document from latest states and component rows."""
    checks = [_state_dict(latest[key]) for key in sorted(latest)]
    failing = [c for c in checks if c["confirmed"] != Status.OK.value]
    return {
        "running": running,
        "at": now,
        "checks": checks,
        "components": list(components),
        "failing": failing,
    }


def status_from_store(store: Store, now: float) -> dict[str, Any]:
    """The status document as the store last recorded it (selfreg not running)."""
    return build_status(load_latest(store), summaries(store), running=False, now=now)

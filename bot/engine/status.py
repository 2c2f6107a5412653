"""The status document: every check's latest state, the components, what is failing.

One shape for ``/status``, the control socket and ``selfreg status``, whether it comes from
the running engine's memory or, when selfreg is not running, from the store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict
from typing import Any

from bot import __version__
from bot.records import LatestState
from bot.store.components import summaries
from bot.store.db import Store
from bot.store.state import load_latest
from checks.base import CheckSpec, Status
from checks.peer_summary import STATUS_FORMAT


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
    peers: Collection[str] = (),
) -> dict[str, Any]:
    """The status document from latest states and component rows.

    ``format`` is the document's shape (a peer refuses one it cannot read) and ``at`` this
    side's clock when it was made (a peer compares it with its own: the clock skew).
    """
    checks = [_state_dict(latest[key]) for key in sorted(latest)]
    failing = [c for c in checks if c["confirmed"] != Status.OK.value]
    return {
        "format": STATUS_FORMAT,
        "version": __version__,
        "running": running,
        "at": now,
        "checks": checks,
        "components": list(components),
        "failing": failing,
        "peers": fold_peers(checks, peers),
    }


def fold_peers(checks: Iterable[Mapping[str, Any]], peers: Collection[str]) -> list[dict[str, Any]]:
    """The ``peer`` checks' latest lines, under each peer's name ("mobile: 11 ok, 1 critical
    — api-health failing for 4 min"): how the other side looks from this one."""
    return [
        {
            "name": c["check"],
            "status": c["status"],
            "summary": c["summary"],
            "at": c["at"],
            "values": c["values"],
        }
        for c in checks
        if c["check"] in peers
    ]


def peer_names(specs: Iterable[CheckSpec]) -> set[str]:
    """The names of the checks of kind ``peer`` (``[[peers]]`` entries among them)."""
    return {spec.name for spec in specs if spec.kind == "peer"}


def status_from_store(store: Store, now: float, peers: Collection[str] = ()) -> dict[str, Any]:
    """The status document as the store last recorded it (selfreg not running)."""
    return build_status(load_latest(store), summaries(store), running=False, now=now, peers=peers)

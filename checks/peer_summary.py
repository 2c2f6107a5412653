"""Read another selfreg's ``/status`` document and say it in one line (pure: no I/O).

``checks/peer.py`` fetches the document; this module checks that it is one this selfreg
understands (``format`` 1, the fields below) and folds it into the summary an operator reads
under the peer's name: "mobile: 11 ok, 1 critical — api-health failing for 4 min".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.units import format_duration

STATUS_FORMAT = 1
"""The ``format`` of the status document this selfreg writes and reads (bot/engine/status)."""

NEEDED = ("format", "at", "checks", "components", "incidents")
"""Fields a peer's /status must carry for the fold below."""

ORDER = ("ok", "warning", "unknown", "critical")
UP = frozenset({"running", "starting", "unready"})


class Incompatible(ValueError):
    """The peer's /status is not a document this selfreg can read (the text says why)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PeerFacts:
    """What the fold found: counts for the metrics, the line for people."""

    counts: Mapping[str, int]
    incidents: int
    components_down: Sequence[str]
    longest: tuple[str, float] | None
    """The check failing longest and for how long (by the peer's own clock), if any."""


def read_document(document: Any) -> PeerFacts:
    """The facts of a peer's /status; ``Incompatible`` when it lacks what the fold needs."""
    if not isinstance(document, dict):
        raise Incompatible("its /status is not a JSON object")
    missing = [name for name in NEEDED if name not in document]
    if missing:
        raise Incompatible(f"its /status lacks {', '.join(missing)}")
    if document["format"] != STATUS_FORMAT:
        raise Incompatible(
            f"its /status is format {document['format']!r}, this selfreg reads {STATUS_FORMAT}"
        )
    try:
        return _facts(document)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Incompatible(f"its /status has an unexpected shape ({exc!r})") from None


def _facts(document: dict[str, Any]) -> PeerFacts:
    checks = list(document["checks"])
    counts = Counter(str(c.get("confirmed", c.get("status"))) for c in checks)
    at = float(document["at"])
    failing = [
        (f"{c['check']}{' ' + c['subject'] if c.get('subject') else ''}", at - c["confirmed_at"])
        for c in checks
        if c.get("confirmed", "ok") != "ok" and "confirmed_at" in c
    ]
    down = [str(c.get("name")) for c in document["components"] if c.get("status") not in UP]
    return PeerFacts(
        counts=dict(counts),
        incidents=len(document["incidents"]),
        components_down=down,
        longest=max(failing, key=lambda f: f[1]) if failing else None,
    )


def summary_line(name: str, facts: PeerFacts, skew: float) -> str:
    """ "mobile: 11 ok, 1 critical — api-health failing for 4 min; 1 open incident"."""
    known = [s for s in ORDER if facts.counts.get(s)]
    others = sorted(s for s in facts.counts if s not in ORDER)
    counts = ", ".join(f"{facts.counts[s]} {s}" for s in known + others) or "no checks"
    parts = []
    if facts.longest is not None:
        what, since = facts.longest
        parts.append(f"{what} failing for {format_duration(since, 'sentence')}")
    if facts.incidents:
        parts.append(f"{facts.incidents} open incident{'s' if facts.incidents != 1 else ''}")
    if facts.components_down:
        parts.append(f"component{'s' if len(facts.components_down) > 1 else ''} down: "
                     + ", ".join(facts.components_down))  # fmt: skip
    if abs(skew) >= 1:
        way = "ahead of" if skew > 0 else "behind"
        parts.append(f"its clock {format_duration(abs(skew), 'sentence')} {way} ours")
    return f"{name}: {counts}" + (" — " + "; ".join(parts) if parts else "")


def values(facts: PeerFacts, skew: float, round_trip: float) -> dict[str, float]:
    """The numbers recorded as samples (and shown on /metrics through the store)."""
    failing = sum(n for s, n in facts.counts.items() if s != "ok")
    return {
        "reachable": 1.0,
        "checks_ok": float(facts.counts.get("ok", 0)),
        "checks_failing": float(failing),
        "incidents_open": float(facts.incidents),
        "components_down": float(len(facts.components_down)),
        "clock_skew": skew,
        "round_trip": round_trip,
    }

"""From exceedance to score, for both stages, and one interval as the engine runs it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from models.base import AnomalyScore, Detector


def _exceedance_score(e: float, margin: float) -> float:
    """Map an exceedance (1 = at the reference extreme) to [0, 1); 1 + margin maps to 0.5."""
    return e / (e + 1.0 + margin) if e > 0.0 else 0.0


def _refractory(
    score: float, threshold: float, n: int, last: int, samples: int
) -> tuple[float, int]:
    """One detection per episode: a score at or over the threshold within ``samples`` of the
    previous detection is held under it (at 99 % of it, clear of any rounding when written
    out). Returns the score and the sample number of the last detection."""
    if score < threshold:
        return score, last
    if n - last <= samples:
        return 0.99 * threshold, last
    return score, n


def _shares(items: Iterable[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """Positive weights normalised to sum to 1, largest first (ties by name)."""
    positive = [(name, w) for name, w in items if w > 0.0]
    total = sum(w for _, w in positive)
    if total <= 0.0:
        return ()
    return tuple(sorted(((n, w / total) for n, w in positive), key=lambda p: (-p[1], p[0])))


def score_interval(
    detector: Detector,
    at: float,
    samples: Iterable[tuple[str, float]],
    thresholds: Mapping[str, float] | None = None,
) -> list[AnomalyScore]:
    """One interval, exactly as the engine runs it: every sample, then the group views.

    ``samples`` are ``(key, value)`` pairs observed at ``at``; ``thresholds`` maps a key (or a
    group key) to a per-check override. Returns every score (not only detections); a series
    still warming up contributes nothing. The NAB bench calls this same function.
    """
    limits = thresholds or {}
    out = []
    for key, value in samples:
        result = detector.score(key, at, value, limits.get(key))
        if result is not None:
            out.append(result)
    out.extend(detector.score_groups(at))
    return out

"""Stage 2's rows and results: what a group's row holds and what its score reports."""

from __future__ import annotations

import functools

from models.anomaly.forest import GroupForest
from models.anomaly.scoring import _shares
from models.base import AnomalyScore


@functools.lru_cache(maxsize=1024)
def group_features(metrics: tuple[str, ...]) -> tuple[str, ...]:
    """A group row: each metric normalised by its own window, then each metric's departure
    from the group's mean (so "one metric left the others" is one axis-aligned split)."""
    return (*metrics, *(f"{m}~group" for m in metrics))


def group_row(norms: list[float]) -> list[float]:
    """The row ``group_features`` names, from each metric's normalised last value."""
    mean = sum(norms) / len(norms)
    return norms + [v - mean for v in norms]


def group_score(
    group: str,
    names: list[str],
    model: GroupForest,
    row: list[float],
    at: float,
    e: float,
    score: float,
    limit: float,
) -> AnomalyScore:
    """A group's result for the interval: ``e`` its exceedance, ``score`` after the refractory
    hold; a detection names the metrics behind it, each weighted by its row's two columns."""
    return AnomalyScore(
        metric=group,
        at=at,
        value=e,
        score=score,
        threshold=limit,
        usual_low=float(model.usual_[0]),
        usual_high=float(model.usual_[1]),
        contributions=_shares(
            (k.rpartition("|")[2], abs(row[i]) + abs(row[i + len(names)]))
            for i, k in enumerate(names)
        )
        if score >= limit
        else (),
    )

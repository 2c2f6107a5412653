"""Stage 2's rows and results: what a group's row holds and what its score reports."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

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


class GroupRows:
    """A group's last ``size`` rows (``width`` values each) for its forest's next fit, as
    float32 in one array that grows with the group (a list of Python floats per row costs
    about six times as much); ``count``: rows recorded in all, the group's clock for the
    refractory hold."""

    __slots__ = ("count", "data", "size")

    def __init__(self, size: int, width: int) -> None:
        self.size, self.count = size, 0
        self.data = np.empty((min(size, 64), width), dtype=np.float32)

    def append(self, row: Sequence[float]) -> None:
        """Record one row (the oldest leaves once ``size`` are kept)."""
        if self.count == len(self.data) < self.size:
            grown = np.empty((min(self.size, 2 * self.count), self.data.shape[1]), np.float32)
            grown[: self.count] = self.data
            self.data = grown
        self.data[self.count % self.size] = row
        self.count += 1

    def __len__(self) -> int:
        return min(self.count, self.size)

    def array(self) -> np.ndarray:
        """The rows kept, oldest first (``len x width``, float64)."""
        if self.count <= self.size:
            return self.data[: self.count].astype(np.float64)
        pos = self.count % self.size
        return np.concatenate((self.data[pos:], self.data[:pos])).astype(np.float64)

    @classmethod
    def restore(cls, size: int, rows: np.ndarray, count: int) -> GroupRows:
        """The rows ``array`` returned, ``count`` recorded in all."""
        out = cls(size, rows.shape[1])
        for row in rows[-size:]:
            out.append(row)
        out.count = max(count, len(out))
        if out.count > size:  # the next row overwrites the oldest: keep the order ``array`` reads
            out.data = np.roll(out.data, out.count % size, axis=0)
        return out

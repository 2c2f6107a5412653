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
    refractory hold. While every row is the same (a group of metrics that do not move, such
    as an idle process's counts, CPU and memory) only that row is kept (``flat``)."""

    __slots__ = ("count", "data", "flat", "size", "width")

    def __init__(self, size: int, width: int) -> None:
        self.size, self.width, self.count = size, width, 0
        self.flat: list[float] | None = None
        self.data: np.ndarray | None = None

    def append(self, row: Sequence[float]) -> None:
        """Record one row (the oldest leaves once ``size`` are kept)."""
        if self.data is None:
            values = [float(v) for v in row]
            if not self.count:
                self.flat = values
            if values == self.flat:
                self.count += 1
                return
            self._unflatten()
        assert self.data is not None
        if self.count == len(self.data) < self.size:
            grown = np.empty((min(self.size, 2 * self.count), self.width), np.float32)
            grown[: self.count] = self.data
            self.data = grown
        self.data[self.count % self.size] = row
        self.count += 1

    def _unflatten(self) -> None:
        """Store the flat rows as rows: the next one differs from them."""
        kept = min(self.count, self.size)
        self.data = np.empty((min(self.size, max(64, 2 * kept)), self.width), np.float32)
        self.data[:kept] = self.flat  # the same row: any order is theirs
        self.flat = None

    def __len__(self) -> int:
        return min(self.count, self.size)

    def array(self) -> np.ndarray:
        """The rows kept, oldest first (``len x width``, float64)."""
        if self.data is None:
            row = np.asarray(self.flat or np.zeros(self.width), dtype=np.float32)
            return np.tile(row.astype(np.float64), (len(self), 1))
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
        if out.count > size and out.data is not None:  # the next row overwrites the oldest:
            out.data = np.roll(out.data, out.count % size, axis=0)  # keep ``array``'s order
        return out

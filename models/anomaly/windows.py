"""Stage 1's memory: the streaming features of one metric and their windows.

``_Window`` keeps a feature's last values with their median and reference extremes;
``_Series`` is everything learned about one metric; ``exceedances`` measures a new sample's
features against the windows as they were before it (see the package docstring).
"""

from __future__ import annotations

import math
import zlib
from array import array
from collections import deque

import numpy as np

FEATURES = ("value", "jump", "level", "seasonal")
"""The streaming features, in the order their windows are kept and saved."""
_DAY = 86400.0
_MIN_WINDOW = 10  # values a window needs before it takes part in a score
_REFRESH = 100  # samples between exact recomputations of a window's order statistics


class _Window:
    """The last ``size`` values of one feature, with its median and its ``rank`` most extreme
    values at each end (``high`` descending, ``low`` ascending: the reference extremes are
    ``high[-1]`` and ``low[-1]``).

    Exact order statistics on every sample would cost a sorted insert and delete per feature,
    about half the per-sample budget; instead numpy recomputes them every ``_REFRESH`` samples
    and, in between, a new value beyond an extreme moves that extreme at once (the change that
    matters for the next sample). A value leaving the window leaves the statistics at the next
    refresh. Deterministic and causal, like the exact version.
    """

    __slots__ = ("due", "high", "low", "median", "pos", "rank", "ring", "size")

    def __init__(self, size: int, rank: int, phase: int = 0) -> None:
        # ``phase`` staggers the refreshes of different windows over different samples, so
        # that series started together do not all pay for a refresh in the same interval.
        self.size, self.rank, self.pos = size, rank, -1
        self.due = phase % _REFRESH + 1  # samples until the next refresh
        self.ring: array[float] = array("d")
        self.median = 0.0
        self.high: list[float] = []
        self.low: list[float] = []

    def add(self, v: float) -> None:
        ring, pos = self.ring, self.pos
        if pos < 0:  # still filling
            ring.append(v)
            if len(ring) == self.size:
                self.pos = 0
            if len(ring) <= _MIN_WINDOW:
                self.recompute()
                return
        else:
            ring[pos] = v
            pos += 1
            self.pos = 0 if pos == self.size else pos
        self.due -= 1
        if not self.due:
            self.due = _REFRESH
            self.recompute()
            return
        high, low = self.high, self.low
        if v > high[-1]:
            high[-1] = v
            high.sort(reverse=True)
        if v < low[-1]:
            low[-1] = v
            low.sort()

    def recompute(self) -> None:
        values = np.array(self.ring)
        n = len(values)
        k = min(self.rank, n)
        part = np.partition(values, sorted({k - 1, n // 2, n - k}))
        self.median = float(part[n // 2])
        self.high = sorted(part[n - k :].tolist(), reverse=True)
        self.low = sorted(part[:k].tolist())

    def chronological(self) -> np.ndarray:
        if self.pos <= 0:
            return np.array(self.ring)
        return np.concatenate([self.ring[self.pos :], self.ring[: self.pos]])

    def stats(self) -> np.ndarray:
        """``[due, median, *high, *low]``: what a restore needs beyond the values."""
        return np.array([self.due, self.median, *self.high, *self.low], dtype=float)

    @classmethod
    def restore(cls, size: int, rank: int, values: np.ndarray, stats: np.ndarray) -> _Window:
        """The window ``chronological`` and ``stats`` describe."""
        window = cls(size, rank)
        window.ring = array("d", values.tolist())
        window.pos = 0 if len(window.ring) == size else -1
        k = (len(stats) - 2) // 2
        window.due, window.median = int(stats[0]), float(stats[1])
        window.high, window.low = stats[2 : 2 + k].tolist(), stats[2 + k :].tolist()
        return window


class _Series:
    """Everything the streaming stage has learned about one metric."""

    __slots__ = (
        "group",
        "last_detection",
        "n",
        "norm",
        "prev",
        "profile",
        "recent",
        "recent_sum",
        "windows",
    )

    def __init__(self, key: str, window: int, rank: int, buckets: int, span: int) -> None:
        group = key.rpartition("|")[0]
        self.group = group
        self.n = 0
        self.prev = 0.0
        self.norm = 0.0  # the last value, normalised by its window (a group forest's input)
        self.last_detection = -(10**9)
        self.recent: deque[float] = deque(maxlen=span)
        self.recent_sum = 0.0
        self.profile = [math.nan] * buckets
        phase = zlib.crc32(key.encode())  # stable across runs, unlike hash()
        self.windows = tuple(_Window(window, rank, phase + 7 * j) for j in range(len(FEATURES)))


_NO_EXCESS = (0.0, 0.0, 0.0, 0.0)


def exceedances(
    s: _Series, x: float, jump: float, level: float, seasonal: float, floor_share: float
) -> tuple[float, float, tuple[float, float, float, float]]:
    """The sample's features against the windows as they were before it (so a score is
    causal): the value window's reference extremes ``(low, high)`` (the usual range) and one
    exceedance per feature of ``FEATURES``; also records the value's normalised level in
    ``s.norm`` (a group forest's input). Windows still filling give ``(x, x, zeros)``.

    A feature's exceedance is its distance from its window's median in units of the median's
    distance to the reference extreme on that side: 1 means "as far out as the rare extremes"
    (both sides, except for the jump, which is never negative). ``floor`` keeps the unit
    positive for flat or quantised metrics. Written out, not as a helper per feature: this runs
    for every sample of every metric.
    """
    w_value, w_jump, w_level, w_seasonal = s.windows
    if len(w_value.ring) < _MIN_WINDOW:  # value, jump and level windows fill together
        return x, x, _NO_EXCESS
    low, high = w_value.low[-1], w_value.high[-1]
    floor = 1e-9 * (1.0 + abs(x)) + floor_share * (w_value.high[0] - w_value.low[0])
    med = w_value.median
    s.norm = (x - med) / (high - low + floor)
    e, e2 = (x - med) / (high - med + floor), (med - x) / (med - low + floor)
    e_value = e2 if e2 > e else e
    med = w_jump.median
    e_jump = (jump - med) / (w_jump.high[-1] - med + floor)
    med = w_level.median
    e = (level - med) / (w_level.high[-1] - med + floor)
    e2 = (med - level) / (med - w_level.low[-1] + floor)
    e_level = e2 if e2 > e else e
    e_seasonal = 0.0
    if seasonal == seasonal and len(w_seasonal.ring) >= _MIN_WINDOW:  # NaN: bucket unseen
        med = w_seasonal.median
        e = (seasonal - med) / (w_seasonal.high[-1] - med + floor)
        e2 = (med - seasonal) / (med - w_seasonal.low[-1] + floor)
        e_seasonal = e2 if e2 > e else e
    return low, high, (e_value, e_jump, e_level, e_seasonal)

"""Stage 1's memory: the streaming features of one metric and their windows.

``_Windows`` keeps every feature's last values with their medians and reference extremes;
``_Series`` is everything learned about one metric; ``exceedances`` measures a new sample's
features against the windows as they were before it (see the package docstring).
"""

from __future__ import annotations

import math
import zlib
from array import array
from collections import deque

import numpy as np

from models.anomaly.ring import Ring

FEATURES = ("value", "jump", "level", "seasonal", "drift", "spread")
"""The streaming features, in the order their windows are kept and saved."""
_F = len(FEATURES)
_DAY = 86400.0
_MIN_WINDOW = 10  # values a window needs before it takes part in a score
_GROWN = 300  # rows from which a window's extremes are taken as they are (the default warm-up)
_REFRESH = 100  # samples between exact recomputations of the windows' order statistics


class _Windows:
    """Every feature's last ``size`` rows for one metric (one row per sample), with each
    feature's median and its ``rank`` most extreme values at each end (``high[j]``
    descending, ``low[j]`` ascending: the reference extremes are ``high[j][-1]`` and
    ``low[j][-1]``).

    Only the features that cannot be recomputed are kept (``models.anomaly.ring``): the
    value, the seasonal residual and (when on) the slow level, as float32, the value and
    slow level relative to ``offset`` (the window's median at the last refresh, so float32
    keeps the digits that vary). The jump, level and spread are recomputed from the values
    at each refresh; ``lead`` values older than the oldest row are kept for that. The rings
    grow as the metric does (a young metric holds only what it has seen). A sample costs a
    store per kept feature and two comparisons per feature: every ``_REFRESH`` samples (and,
    while the windows are young, each time they have grown by an eighth) one
    ``np.partition`` over the rows recomputes every feature's order statistics. In between,
    a value beyond an extreme moves that extreme at once (the change that matters for the
    next sample); a value leaving the window leaves the statistics at the next refresh.
    Deterministic and causal, like exact order statistics on every sample.
    """

    __slots__ = (
        "count",
        "due",
        "filled",
        "high",
        "low",
        "median",
        "need",
        "rank",
        "ring",
        "rows",
        "since",
        "young",
    )

    def __init__(self, ring: Ring, rank: int, phase: int = 0) -> None:
        # ``phase`` staggers the refreshes of different series over different samples, so
        # that series started together do not all pay for a refresh in the same interval.
        self.ring, self.rank = ring, rank
        self.rows = 0  # rows learned in all (samples whose spread window was whole)
        self.since = 0  # rows learned since the last refresh
        self.filled = 0  # rows in the windows at the last refresh
        self.due = phase % _REFRESH + 1  # rows until the next refresh
        self.median = [0.0] * _F
        self.high: list[array[float]] = [array("d", [0.0]) for _ in range(_F)]
        self.low: list[array[float]] = [array("d", [0.0]) for _ in range(_F)]
        # rows each feature needs before it takes part in a score (``_Series`` sets them)
        self.need = (_MIN_WINDOW,) * _F
        self.young = 1.0  # how much wider a young window's unit is (see ``refresh``)

    def add(self, row: tuple[float, ...], whole: bool, checked: bool = False) -> None:
        """Learn one sample's features (in ``FEATURES`` order); ``whole``: its spread window
        was full, so the row takes part in the windows (before, only its value is kept, for
        the later rows' jump, level and spread); ``checked``: ``exceedances`` has already
        moved the extremes for it."""
        self.ring.store(row[0], row[3], row[4])
        if not whole:
            return
        self.rows += 1
        self.since += 1
        self.due -= 1
        if not self.due or 8 * self.since > self.filled:  # young windows: every 1/8 growth
            self.due = _REFRESH
            self.refresh()
            return
        if checked:
            return
        for v, high, low in zip(row, self.high, self.low, strict=True):
            if v > high[-1]:
                _raise(high, v)
            elif v < low[-1]:
                _lower(low, v)

    def refresh(self) -> None:
        """Recompute every feature's order statistics from the rows in the windows."""
        n = self.filled = min(self.rows, self.ring.size)
        self.since = 0
        if not n:
            return
        values = self.ring.features(n)
        k = min(self.rank, n)
        part = np.partition(values, sorted({k - 1, n // 2, n - k}), axis=1)
        # The k-th extreme of a young window (fewer than _GROWN rows) is less rare than
        # that of a grown one (k/n against k/_GROWN). For Gaussian-like tails the distance to
        # the extreme of tail probability p grows like sqrt(log(1/p)): widen the unit by that
        # ratio, so a young window calls "as rare as its extremes" about as rarely.
        self.young = (
            1.0 if n >= _GROWN else math.sqrt(math.log(_GROWN / k) / math.log(max(n / k, 2.0)))
        )
        self._set_stats(
            part[:, n // 2],
            np.sort(part[:, n - k :], axis=1)[:, ::-1],
            np.sort(part[:, :k], axis=1),
        )
        self.ring.rebase(self.median[0])
        self.ring.compact()

    def stats(self) -> np.ndarray:
        """``features x (1 + 2 rank)``: each feature's median, high and low extremes."""
        return np.array(
            [[m, *h, *lo] for m, h, lo in zip(self.median, self.high, self.low, strict=True)]
        )

    def restore_stats(self, stats: np.ndarray) -> None:
        """Put back the order statistics ``stats`` describes."""
        k = (stats.shape[1] - 1) // 2
        self._set_stats(stats[:, 0], stats[:, 1 : 1 + k], stats[:, 1 + k :])

    def _set_stats(self, median: np.ndarray, high: np.ndarray, low: np.ndarray) -> None:
        # the extremes as float arrays, not lists of Python floats: a third of the memory
        # (0.2 MB for 150 metrics); the median, read for every feature of every sample, a list
        self.median = median.tolist()
        self.high = [array("d", row) for row in high.tolist()]
        self.low = [array("d", row) for row in low.tolist()]


class _Series:
    """Everything the streaming stage has learned about one metric.

    Until ``warmup`` samples have arrived the raw samples wait in ``warm`` (time, value,
    time, value, ...); then the series chooses its transform (``models.anomaly.transform``)
    and learns them all at once.
    """

    __slots__ = (
        "drift",
        "group",
        "last_detection",
        "level",
        "level_sum",
        "n",
        "norm",
        "prev",
        "profile",
        "recent",
        "scale",
        "transform",
        "warm",
        "windows",
    )

    def __init__(
        self, key: str, window: int, rank: int, buckets: int, spans: tuple[int, int, int]
    ) -> None:
        span, drift, spread = spans
        self.group = key.rpartition("|")[0]
        self.n = 0
        self.prev = 0.0
        self.norm = 0.0  # the last value, normalised by its window (a group forest's input)
        self.last_detection = -(10**9)
        self.level: deque[float] = deque(maxlen=span)
        self.level_sum = 0.0
        self.recent: deque[float] = deque(maxlen=max(spread, 1))  # spread 0: off
        self.drift = 0.0  # the slow level (an exponential average)
        self.profile = array("d", [math.nan]) * buckets
        self.transform, self.scale = 0, 1.0
        self.warm: array[float] | None = array("d")
        phase = zlib.crc32(key.encode())  # stable across runs, unlike hash()
        self.windows = _Windows(Ring(window, span, spread, drift > 0), rank, phase)
        # a slow feature's window needs several of its spans before its extremes mean much
        need = self.windows.need
        self.windows.need = (*need[:4], max(need[4], 4 * drift), max(need[5], 4 * spread))


_NO_EXCESS = (0.0,) * _F
_HIGH = (True, True, True, True, True, False)  # a wide spread is a spike: the value's
_LOW = (True, False, True, True, True, True)  # a jump is never negative


def exceedances(s: _Series, row: tuple[float, ...], floor_share: float) -> tuple[float, ...]:
    """The sample's features against the windows as they were before it (so a score is
    causal): one exceedance per feature of ``FEATURES``, negative for a feature below its
    median (the low side); also records the value's normalised level in ``s.norm`` (a group
    forest's input) and moves any extreme the sample passes. Windows still filling give
    zeros and are left alone.

    A feature's exceedance is its distance from its window's median in units of the median's
    distance to the reference extreme on that side: 1 means "as far out as the rare extremes"
    (both sides, except for the jump). ``floor`` keeps the unit positive for flat or
    quantised metrics.
    """
    w = s.windows
    if w.filled < _MIN_WINDOW:
        return _NO_EXCESS
    high, low, median = w.high, w.low, w.median
    x = row[0]
    young = w.young
    floor = 1e-9 * (1.0 + abs(x)) + floor_share * (high[0][0] - low[0][0])
    s.norm = (x - median[0]) / (high[0][-1] - low[0][-1] + floor)
    out = []
    need, filled = w.need, w.filled
    for j in range(_F):
        v, m, top_j, bottom_j = row[j], median[j], high[j], low[j]
        top, bottom = top_j[-1], bottom_j[-1]
        if filled < need[j]:
            out.append(0.0)
        elif v >= m:
            out.append((v - m) / ((top - m) * young + floor) if _HIGH[j] else 0.0)
        elif _LOW[j]:
            out.append((v - m) / ((m - bottom) * young + floor))
        else:
            out.append(0.0)
        # the sample's part of learning, done here while its values are at hand: a value
        # beyond an extreme moves it at once (``_Windows.add(row, checked=True)`` then skips it)
        if v > top:
            _raise(top_j, v)
        elif v < bottom:
            _lower(bottom_j, v)
    return tuple(out)


def _raise(high: array[float], v: float) -> None:
    """Put ``v`` among the descending extremes ``high`` in place of the last (smallest) one."""
    i = len(high) - 1
    while i and high[i - 1] < v:
        high[i] = high[i - 1]
        i -= 1
    high[i] = v


def _lower(low: array[float], v: float) -> None:
    """Put ``v`` among the ascending extremes ``low`` in place of the last (largest) one."""
    i = len(low) - 1
    while i and low[i - 1] > v:
        low[i] = low[i - 1]
        i -= 1
    low[i] = v

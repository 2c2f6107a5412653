"""Stage 1's storage: the few features of a metric's last rows that cannot be recomputed.

A window of 2,000 rows of six float64 features is 96 KB per metric, most of it redundant:
the jump, the short-term level and the spread are functions of the last few values, so
they are recomputed from the values when the order statistics are (every 100 rows), not
stored. What is stored, as float32 in ``array`` rings that grow with the metric (a young
metric holds only what it has seen): the value, the seasonal residual (it depends on the
time-of-day profile as it was) and, when it is on, the slow level. Values and slow level
are kept relative to ``offset``, moved to the window's median at each refresh, so float32
keeps the digits that vary (a byte count near 1e9 keeps its single bytes). A metric whose
kept samples are all the same (most of a host's: counts of processes, threads, open files)
keeps no rings at all, only that sample, until one differs (``compact``). ``lead`` values
older than the oldest row are kept so that every row's jump, level and spread are
recomputed from the same values they were computed from.
"""

from __future__ import annotations

from array import array

import numpy as np


class Ring:
    """The kept features of one metric's last ``size + lead`` samples, oldest overwritten
    first; ``count`` samples stored in all, the next one at ``pos`` once the ring is full."""

    __slots__ = (
        "count",
        "drift",
        "flat",
        "lead",
        "level_span",
        "offset",
        "pos",
        "seasonal",
        "size",
        "spread_span",
        "values",
    )

    def __init__(self, size: int, level_span: int, spread_span: int, drift: bool) -> None:
        self.size = size  # rows in a window
        self.level_span = max(level_span, 1)
        self.spread_span = max(spread_span, 1)  # 0 and 1 both mean "off": a spread of 0
        self.lead = max(self.level_span, self.spread_span, 2) - 1
        self.values = array("f")
        self.seasonal = array("f")
        self.drift: array[float] | None = array("f") if drift else None
        self.count = self.pos = 0
        self.offset = 0.0
        # (value, seasonal, slow level) as given, while every sample stored had exactly these:
        # the rings stay empty until one differs (see ``compact``)
        self.flat: tuple[float, float, float] | None = None

    def store(self, value: float, seasonal: float, drift: float) -> None:
        """Keep one sample's value, seasonal residual and slow level."""
        flat = self.flat
        if not self.count:
            self.offset = value
            self.flat = (value, seasonal, drift)
            self.count = 1
            return
        if flat is not None:
            if flat[0] == value and flat[1] == seasonal and flat[2] == drift:
                self.count += 1
                return
            self._unflatten()
        value -= self.offset
        capacity = self.size + self.lead
        if self.count < capacity:
            self.values.append(value)
            self.seasonal.append(seasonal)
            if self.drift is not None:
                self.drift.append(drift - self.offset)
        else:
            pos = self.pos
            self.values[pos] = value
            self.seasonal[pos] = seasonal
            if self.drift is not None:
                self.drift[pos] = drift - self.offset
            self.pos = pos + 1 if pos + 1 < capacity else 0
        self.count += 1

    def _unflatten(self) -> None:
        """Fill the rings with the flat samples: the next sample differs from them."""
        value, seasonal, drift = self.flat or (0.0, 0.0, 0.0)
        n = min(self.count, self.size + self.lead)
        self.values = array("f", [value - self.offset]) * n
        self.seasonal = array("f", [seasonal]) * n
        if self.drift is not None:
            self.drift = array("f", [drift - self.offset]) * n
        self.flat, self.pos = None, 0  # every kept sample is the same: any order is theirs

    def compact(self) -> None:
        """Empty the rings when every kept sample is the same: a metric that has not moved
        in its window (a process count, a thread count, an idle process's CPU, which are
        most of a host's metrics) costs a few numbers instead of two float32 rings."""
        if self.flat is not None or not self.count:
            return
        kept = [r for r in (self.values, self.seasonal, self.drift) if r is not None]
        views = [np.frombuffer(r, dtype=np.float32) for r in kept]
        if any(v.min() != v.max() for v in views):
            return
        value, seasonal = float(views[0][0]) + self.offset, float(views[1][0])
        drift = float(views[2][0]) + self.offset if len(views) > 2 else 0.0
        del views  # the rings may be replaced only once no view of them is left
        self.flat = (value, seasonal, drift)
        self.values, self.seasonal = array("f"), array("f")
        self.drift = array("f") if self.drift is not None else None
        self.pos = 0

    def column(self, kept: int) -> np.ndarray:
        """Kept feature ``kept`` (0 value, 1 seasonal residual, 2 slow level), oldest first,
        as float64 on the stored scale."""
        if self.flat is None:
            ring = (self.values, self.seasonal, self.drift)[kept]
            assert ring is not None  # column 2 is asked for only when the slow level is on
            return self.chronological(ring)
        stored = self.flat[kept] - (self.offset if kept != 1 else 0.0)
        n = min(self.count, self.size + self.lead)
        return np.full(n, np.float32(stored), dtype=np.float64)

    def chronological(self, ring: array[float]) -> np.ndarray:
        """One ring's samples, oldest first, as float64 (on the stored scale)."""
        v = np.frombuffer(ring, dtype=np.float32)
        if self.pos:
            v = np.concatenate((v[self.pos :], v[: self.pos]))
        return v.astype(np.float64)

    def features(self, n: int) -> np.ndarray:
        """The last ``n`` rows, ``features x n`` (``FEATURES`` order), float64."""
        k, level_span, spread_span, offset = (
            self.lead,
            self.level_span,
            self.spread_span,
            self.offset,
        )
        y = self.column(0)
        start = self.count <= self.size + k  # y begins with the metric's first value
        # ``k`` values before the first of the ``n`` rows, then the rows (the first value
        # repeated when there was nothing before it: no jump, no added range)
        full = np.concatenate((np.full(k, y[0]), y)) if start else y
        tail = full[len(full) - n - k :]
        out = np.empty((6, n))
        np.add(tail[k:], offset, out=out[0])
        np.abs(np.subtract(tail[k:], tail[k - 1 : -1]), out=out[1])
        level = np.convolve(tail[k - level_span + 1 :], np.ones(level_span), "valid")
        np.add(level / level_span, offset, out=out[2])
        first = len(full) - k - n  # the first row's place among the metric's values
        if start and first < level_span - 1:  # the level of the first values: their mean
            places = np.arange(first, min(level_span - 1, first + n))
            out[2, : len(places)] = np.cumsum(y[: level_span - 1])[places] / (places + 1) + offset
        out[3] = self.column(1)[-n:]
        if self.drift is not None:
            np.add(self.column(2)[-n:], offset, out=out[4])
        else:
            out[4] = 0.0
        out[5] = _ranges(tail[k - spread_span + 1 :], spread_span)
        return out

    def rebase(self, offset: float) -> None:
        """Store values and slow level relative to ``offset`` from now on."""
        delta = self.offset - offset
        if not delta or not self.count:
            return
        if self.flat is not None:  # kept as given: only the scale of a later unflatten moves
            self.offset = offset
            return
        for ring in (self.values, self.drift):
            if ring is not None and len(ring):
                view = np.frombuffer(ring, dtype=np.float32)
                view[:] = view.astype(np.float64) + delta
                del view  # the ring may grow again only once no view of it is left
        self.offset = offset

    def arrays(self) -> np.ndarray:
        """``kept x samples`` oldest first, float32 (value, seasonal, slow level if on)."""
        kept = 3 if self.drift is not None else 2
        return np.stack([self.column(i) for i in range(kept)]).astype(np.float32)

    def load(self, kept: np.ndarray, offset: float, count: int) -> None:
        """Put back what ``arrays`` returned (``count``: samples stored in all)."""
        self.values = array("f", kept[0].astype(np.float32).tobytes())
        self.seasonal = array("f", kept[1].astype(np.float32).tobytes())
        if self.drift is not None:
            drift = kept[2] if len(kept) > 2 else np.zeros(kept.shape[1])
            self.drift = array("f", drift.astype(np.float32).tobytes())
        self.offset, self.count, self.pos, self.flat = offset, count, 0, None
        self.compact()


def _ranges(x: np.ndarray, width: int) -> np.ndarray:
    """Max minus min of every ``width`` consecutive values of ``x`` (``len(x) - width + 1``
    of them): maxima and minima over spans doubled until the next doubling passes ``width``,
    then two overlapping spans cover each window (a few vectorised passes, not one per
    window: a per-window reduction costs 20x as much)."""
    n = len(x) - width + 1
    high = low = x
    span = 1
    while 2 * span <= width:
        high = np.maximum(high[:-span], high[span:])
        low = np.minimum(low[:-span], low[span:])
        span *= 2
    rest = width - span
    return np.maximum(high[:n], high[rest : rest + n]) - np.minimum(low[:n], low[rest : rest + n])

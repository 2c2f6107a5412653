"""Medians and percentiles by ``np.partition``, in place of ``np.median`` and ``np.percentile``.

NumPy's own functions ask ``np.ma`` whether their input is a masked array, and that first
question imports ``numpy.ma``: 3 MB resident for the life of the process (10 MB while it
loads), in a selfreg that never makes a masked array. It happened when the first metric left
its anomaly warm-up or the first forecast fitted its run medians. These give NumPy's results
(its default linear interpolation) for arrays without NaN, which is all the models pass them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def median(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    """``np.median(a, axis)`` for an array without NaN."""
    a = np.asarray(a, dtype=float)
    if axis is None:
        a, axis = a.ravel(), 0
    half = a.shape[axis] // 2
    if a.shape[axis] % 2:
        return np.take(np.partition(a, half, axis=axis), half, axis=axis)
    middle = np.take(np.partition(a, (half - 1, half), axis=axis), (half - 1, half), axis=axis)
    return middle.mean(axis=axis)


def percentiles(values: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """``np.percentile(values, q)`` (linear interpolation) for a 1-D array without NaN."""
    v = np.asarray(values, dtype=float)
    at = (len(v) - 1) * np.asarray(q, dtype=float) / 100.0
    low = np.floor(at).astype(np.intp)
    high = np.minimum(low + 1, len(v) - 1)
    part = np.partition(v, sorted({*low.tolist(), *high.tolist()}))
    a, b, t = part[low], part[high], at - low
    step = b - a
    # NumPy's own lerp: from the nearer end, so that t = 1 gives b exactly
    return np.where(t >= 0.5, b - step * (1.0 - t), a + step * t)

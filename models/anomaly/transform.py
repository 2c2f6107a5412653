"""The log scale for event counts, chosen per metric from its warm-up samples.

Event counts and volumes (errors, requests, messages per interval) are not Gaussian: their
spread grows with their level and their upper tail is long (bursts). Scored raw, an ordinary
burst at a busy hour looks as unusual as a real surge, and a quiet hour's real drop to
nearly nothing looks ordinary. A metric that looks like counts is therefore scored on a log
scale, ``log1p(x / scale)``, where a burst of x3 is the same step at every level.

"Looks like counts" is decided once, when warm-up ends, from the warm-up samples only
(causal): every sample a whole number >= 0, not (nearly) constant, and right-skewed: the 90th
percentile further above the median than ``skew`` times the 10th is below it (``skew`` 1:
the upper tail is the longer one; 0 turns the transform off). ``scale`` is the 5th
percentile, at least 5 % of the median and at least 1 (a count of 0 or 1 is not a trend):
it sets where the scale turns from linear to logarithmic and makes the transform independent
of the metric's unit. Anything else (fractions, negative values, symmetric counts such as a
speed) stays as it is. Measured on the NAB dev data, a log or square-root scale for every
right-skewed non-negative metric (CPU %, bytes) hid the spikes that are its anomalies, so
the transform is kept to counts. Later values below 0 count as 0. ``invert`` maps a band
back to the metric's own unit for the operator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from models.order_stats import percentiles

NONE, LOG = 0, 1


def choose(values: Sequence[float], skew: float) -> tuple[int, float]:
    """The transform (and its scale) for a metric whose warm-up samples are ``values``."""
    v = np.asarray(values, dtype=float)
    if skew <= 0.0 or not len(v) or v.min() < 0.0 or not np.all(v == np.round(v)):
        return NONE, 1.0
    q05, q10, q50, q90 = percentiles(v, [5.0, 10.0, 50.0, 90.0])
    if q90 <= q10 or q90 - q50 <= skew * (q50 - q10):
        return NONE, 1.0
    return LOG, float(max(q05, 0.05 * q50, 1.0))


def apply(code: int, scale: float, x: float) -> float:
    """``x`` on the metric's transformed scale."""
    if code == NONE:
        return x
    return math.log1p((x if x > 0.0 else 0.0) / scale)


def invert(code: int, scale: float, y: float) -> float:
    """The metric's own value for ``y`` on its transformed scale."""
    if code == NONE:
        return y
    return max(scale * math.expm1(y), 0.0)

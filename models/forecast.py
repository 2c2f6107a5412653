"""Forecasts: when will a metric with a trend cross its threshold ("disk full in about 3 h")?

One robust straight line per series, fitted on demand over its recent ``window``:

* **Theil-Sen** (``robust=True``, the default): the slope is the median of the slopes between
  every pair of points, the level the median residual. It ignores up to 29 % of wild points,
  so a burst (a temporary file, a GC pause) does not move the forecast, and the Kendall-tau
  rank gives the slope's confidence interval without any resampling (as
  ``scipy.stats.theilslopes`` does). Written here in numpy: scikit-learn's
  ``TheilSenRegressor`` estimates the same line by subsampled spatial medians and costs tens of
  milliseconds a fit; this costs about 0.3 ms for a window of 120 samples.
* **Least squares** (``robust=False``): the ordinary line, the slope's interval from its
  standard error (Student t, its quantile from ``models.student_t``: no SciPy). Cheaper, but
  a burst drags it.

Longer windows are first reduced to at most ``fit_points`` points, each the median of a run
of consecutive samples (robust again, and bounds the pairwise work). A forecast needs
``min_points`` samples and a slope whose whole confidence interval points towards the
threshold: a flat or noisy series gives no forecast rather than a wild one; so does an ETA
more than ``reach`` times the time the samples span (a young series extrapolated too far). The
ETA interval comes from the slope's interval (``low`` uses the steep end, ``high`` the shallow
one) widened by the level's (the median residual's standard error).

The engine, each interval (``now`` from its clock, thresholds from the check's config)::

    forecaster.observe("host|/data|disk_percent", at, value)           # every sample, ~1 us
    f = forecaster.eta("host|/data|disk_percent", 92.0, now)            # on demand, ~0.3 ms
    if f is not None and f.eta_seconds <= horizon:
        ...  # open/update a predicted incident (kind forecast), propose the configured action

100 series cost 30 to 60 ms of CPU an interval: run them in a worker thread
(``asyncio.to_thread``), or on the loop a few at a time. The window is memory, not a model:
``state_dict`` saves it for ``models.persistence.save(..., feature_names=FEATURES)``, or the
engine refills it from the store's samples at start. Numbers only: the wording ("in about
3 h 10 m") belongs to ``bot.messages``.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

from models import student_t
from models.base import Arrays, Estimator, StateMismatch
from models.order_stats import median

_STATE_FORMAT = 1
FEATURES = ("time", "value")
"""The columns of each saved series (``models.persistence`` checks them at load)."""
_Fit = tuple[float, float, float, float, float]
"""slope, slope low, slope high (units a second), level at the last sample, level half-interval"""


@dataclass(frozen=True, kw_only=True, slots=True)
class Forecast:
    """When series ``metric`` is expected to cross ``threshold``, seen from ``at``.

    ``value`` is the fitted level at ``at`` (not the last raw sample, which may be a burst);
    ``eta_seconds`` is the expected time to the crossing, ``low_seconds``..``high_seconds`` its
    interval (``high_seconds`` may be ``math.inf``); all three are 0 when the fitted level is
    already past the threshold (the rule owns that case). ``slope`` is in units per second;
    ``method`` is ``"theil-sen"`` or ``"least-squares"``.
    """

    metric: str
    at: float
    value: float
    threshold: float
    eta_seconds: float
    low_seconds: float
    high_seconds: float
    slope: float
    method: str


class Forecaster(Estimator):
    """Keeps the last ``window`` seconds of each series and forecasts threshold crossings.

    ``min_points`` samples are needed before any forecast; ``fit_points`` bounds the points a
    fit uses (longer windows are reduced to run medians); ``confidence`` is the coverage of
    the ETA interval; ``max_samples`` bounds each series' memory whatever its sample rate.
    """

    def __init__(
        self,
        window: float = 3600.0,
        min_points: int = 30,
        robust: bool = True,
        fit_points: int = 120,
        confidence: float = 0.9,
        reach: float = 8.0,
        max_samples: int = 3600,
    ) -> None:
        self.window, self.min_points, self.robust = window, min_points, robust
        self.fit_points, self.confidence, self.reach = fit_points, confidence, reach
        self.max_samples = max_samples
        self.series_: dict[str, deque[tuple[float, float]]] = {}
        self.fits_: dict[str, tuple[float, int, _Fit]] = {}

    def observe(self, key: str, at: float, value: float) -> None:
        """Add one sample of ``key``; non-finite values and out-of-order samples are ignored."""
        value = float(value)
        if not (math.isfinite(value) and math.isfinite(at)):
            return
        points = self.series_.get(key)
        if points is None:
            points = self.series_[key] = deque(maxlen=self.max_samples)
        elif points and at <= points[-1][0]:
            return
        points.append((at, value))
        while points[0][0] < at - self.window:
            points.popleft()

    def eta(
        self, key: str, threshold: float, now: float, direction: Literal["up", "down"] = "up"
    ) -> Forecast | None:
        """Time until ``key`` crosses ``threshold`` (going ``direction``), or ``None`` when the
        series is too short or has no clear trend towards the threshold."""
        points = self.series_.get(key)
        if points is None or len(points) < self.min_points or points[-1][0] < now - self.window:
            return None
        fit = self._fit(key, points)
        if fit is None:
            return None
        rate, rate_low, rate_high, level, level_half = fit  # units a second, level at the last
        value = level + rate * (now - points[-1][0])
        sign = 1.0 if direction == "up" else -1.0  # from here on, measured towards the threshold
        speed = sign * rate
        slow, fast = sorted((sign * rate_low, sign * rate_high))
        gap = sign * (threshold - value)
        method = "theil-sen" if self.robust else "least-squares"
        common = {"metric": key, "at": now, "value": value, "threshold": threshold, "slope": rate}
        if gap <= 0.0:
            return Forecast(
                **common, eta_seconds=0.0, low_seconds=0.0, high_seconds=0.0, method=method
            )
        if slow <= 0.0:  # the interval admits a flat or opposite trend: no forecast
            return None
        if gap / speed > self.reach * (points[-1][0] - points[0][0]):
            return None  # too far beyond what the samples cover (a young series, a far ETA)
        return Forecast(
            **common,
            eta_seconds=gap / speed,
            low_seconds=max(gap - level_half, 0.0) / fast,
            high_seconds=(gap + level_half) / slow,
            method=method,
        )

    def _fit(self, key: str, points: deque[tuple[float, float]]) -> _Fit | None:
        """The line through the window's samples; cached until the series gets a new sample,
        so warn and critical thresholds share one fit."""
        last = points[-1][0]
        cached = self.fits_.get(key)
        if cached is not None and cached[0] == last and cached[1] == len(points):
            return cached[2]
        data = np.fromiter(chain.from_iterable(points), float, 2 * len(points)).reshape(-1, 2)
        t, y = data[:, 0] - last, data[:, 1]
        if len(t) > self.fit_points:  # run medians: robust, and bounds the pairwise work
            runs = math.ceil(len(t) / self.fit_points)
            cut = len(t) % runs  # the oldest few samples that do not fill a run are dropped
            t = median(t[cut:].reshape(-1, runs), axis=1)
            y = median(y[cut:].reshape(-1, runs), axis=1)
        fit = (
            _theil_sen(t, y, self.confidence)
            if self.robust
            else _least_squares(t, y, self.confidence)
        )
        if fit is not None:
            self.fits_[key] = (last, len(points), fit)
        return fit

    # -- persistence ------------------------------------------------------------------------

    def _layout(self) -> dict[str, Any]:
        return {"format": _STATE_FORMAT, "params": self.get_params()}

    def state_dict(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Each series' recent samples as an (n, 2) array; keys and parameters as metadata."""
        keys = sorted(self.series_)
        arrays = {
            f"s{i}": np.array(self.series_[k], dtype=float).reshape(-1, 2)
            for i, k in enumerate(keys)
        }
        return arrays, {**self._layout(), "keys": keys}

    def load_state_dict(self, arrays: Arrays, meta: Mapping[str, Any]) -> None:
        """Restore ``state_dict`` output; ``StateMismatch`` (nothing changed) if it does not fit."""
        for field, expected in self._layout().items():
            if meta.get(field) != expected:
                raise StateMismatch(field, expected, meta.get(field))
        self.series_, self.fits_ = {}, {}
        for i, key in enumerate(meta["keys"]):
            for at, value in np.asarray(arrays[f"s{i}"], dtype=float):
                self.observe(key, float(at), float(value))


def _theil_sen(t: np.ndarray, y: np.ndarray, confidence: float) -> _Fit | None:
    """Median pairwise slope, its Kendall-rank interval; the median residual as the level at
    ``t == 0``, its half-interval from the residuals' MAD (a median's standard error)."""
    n = len(t)
    if n < 3:
        return None
    i, j = _pairs(n)
    slopes = (y[j] - y[i]) / (t[j] - t[i])  # times strictly increase: no zero division
    m = len(slopes)
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    spread = z * math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)  # sd of Kendall's S, no ties
    lo = max(math.floor((m - spread) / 2.0), 0)
    hi = min(math.ceil((m + spread) / 2.0), m - 1)
    ranks = sorted({lo, (m - 1) // 2, m // 2, hi})
    part = np.partition(slopes, ranks)  # three order statistics, not a full sort
    slope = 0.5 * float(part[(m - 1) // 2] + part[m // 2])
    resid = y - slope * t
    level = float(median(resid))
    mad = float(median(np.abs(resid - level)))
    level_half = z * 1.2533 * 1.4826 * mad / math.sqrt(n)  # sqrt(pi/2) * sigma / sqrt(n)
    return slope, float(part[lo]), float(part[hi]), level, level_half


@functools.lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of ``n`` points; cached, as a series' length rarely changes."""
    return np.triu_indices(n, k=1)


@functools.lru_cache(maxsize=64)
def _t_quantile(p: float, dof: int) -> float:
    return student_t.quantile(p, dof)  # costs ~0.2 ms: once per (p, dof)


def _least_squares(t: np.ndarray, y: np.ndarray, confidence: float) -> _Fit | None:
    """Ordinary least squares; the slope interval from its standard error (Student t)."""
    n = len(t)
    tc = t - t.mean()
    sxx = float(tc @ tc)
    if n < 3 or sxx <= 0.0:
        return None
    slope = float(tc @ (y - y.mean())) / sxx
    level = float(y.mean() - slope * t.mean())
    resid = y - (level + slope * t)
    sigma = math.sqrt(float(resid @ resid) / (n - 2))
    q = _t_quantile(0.5 + confidence / 2.0, n - 2)
    half = q * sigma / math.sqrt(sxx)
    level_half = q * sigma * math.sqrt(1.0 / n + float(t.mean()) ** 2 / sxx)
    return slope, slope - half, slope + half, level, level_half

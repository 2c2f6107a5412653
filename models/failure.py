"""Failure risk: will this check's rule open an incident within the next ``horizon`` seconds?

One small random forest per check (or component). A row summarises the last ``lookback``
seconds of the check's metrics (latency, errors, restarts, resources, anomaly scores: whatever
the engine records) as each metric's last value, mean, maximum and per-minute slope; its label
is 1 when a *rule* incident of that check (never a predicted one) opened within the horizon
after it: the store's own history labels it. The engine: ``build_dataset`` from the store, then
``clone(risk).fit(data.X, data.y, data.feature_names, times=data.times)`` in a worker and a
swap; on the loop, ``risk.predict_risk(window_features(recent, now))`` (~0.6 ms). A detected
``RiskScore`` opens a predicted incident (kind risk, warning) naming its ``top_features``; a
configured remediation may be proposed, never run on a prediction alone.

Below ``min_samples`` rows (500, about 8 h at a row a minute) or ``min_failures`` failure
episodes (3, one at least in the hold-out), ``status()`` is LEARNING with the counts. The last
``holdout`` of the rows, in time order (training rows whose label window reaches into it are
purged), measures the model as an operator sees it: ``precision_``, the share of warnings (runs
of rows at or over ``threshold``) followed by a failure within the horizon; ``recall_``, the
share of failures warned of. Under ``min_precision`` it is UNRELIABLE and predicts nothing.
The forest kept is refitted on all rows. Classes are balanced by weight, which inflates the
probabilities: ``threshold`` 0.8 is a raw chance of about 1 in 6 at a 5 % failure rate (odds 4
over 19). A model that raises is BROKEN until the next fit: no model, no prediction.
``state_dict`` holds the trees as flat arrays (never a pickle) for ``models.persistence``, saved
with ``feature_names_`` and loaded against ``feature_names(metrics)``.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from models.base import Arrays, Estimator, StateMismatch

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestClassifier

log = logging.getLogger(__name__)

LOOKBACK = 300.0
"""Seconds of history a row summarises."""
STATS = ("last", "mean", "max", "slope")
"""The summaries of each metric, in column order; ``slope`` is per minute."""
_STATE_FORMAT = 1
_TREES = ("feature_", "threshold_", "left_", "right_", "value_")  # the compiled forest
_ARRAYS = (*_TREES, "fill_", "center_", "scale_", "importances_")
_LEARNED = ("n_samples", "n_failures", "precision", "recall", "depth")

Sample = tuple[float, Mapping[str, float]]
"""One observation time of a check and its metric values."""


class RiskState(enum.Enum):
    """Whether the model predicts: only READY does."""

    LEARNING = "learning"  # too little history (or no failure in the hold-out) for a model
    UNRELIABLE = "unreliable"  # fitted, but its hold-out precision is under min_precision
    READY = "ready"
    BROKEN = "broken"  # the model raised; dropped until the next fit


@dataclass(frozen=True, kw_only=True, slots=True)
class RiskStatus:
    """What the model knows: ``precision``/``recall`` are ``None`` until measured."""

    state: RiskState
    n_samples: int
    n_failures: int
    precision: float | None
    recall: float | None


@dataclass(frozen=True, kw_only=True, slots=True)
class RiskScore:
    """The forest's class-balanced score (0..1) that a rule incident opens within the horizon,
    and the features behind it: importance times the row's departure from the usual (median,
    interquartile range), as shares of the total, top first."""

    risk: float
    threshold: float
    top_features: tuple[tuple[str, float], ...]

    @property
    def detected(self) -> bool:
        return self.risk >= self.threshold


@dataclass(frozen=True, kw_only=True, slots=True)
class Dataset:
    """Rows (``X``, oldest first), labels ``y`` (1: a rule incident followed), row ``times``."""

    X: np.ndarray
    y: np.ndarray
    times: np.ndarray
    feature_names: tuple[str, ...]


def feature_names(metrics: Iterable[str]) -> tuple[str, ...]:
    """The columns for these metrics: ``"<metric>:<stat>"``, metrics sorted."""
    return tuple(f"{m}:{s}" for m in sorted(set(metrics)) for s in STATS)


def _summarise(t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Last, mean, max and per-minute slope of each column of ``v`` (NaN = missing), flat."""
    seen = ~np.isnan(v)
    count = seen.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(seen, v, 0.0).sum(axis=0) / count
        last = v[len(v) - 1 - np.argmax(seen[::-1], axis=0), np.arange(v.shape[1])]
        high = np.where(seen, v, -np.inf).max(axis=0)
        tc = np.where(seen, t[:, None] - (seen * t[:, None]).sum(axis=0) / count, 0.0)
        spread = (tc * tc).sum(axis=0)
        slope = 60.0 * (tc * np.where(seen, v - mean, 0.0)).sum(axis=0) / spread
    slope = np.where(spread > 0.0, slope, 0.0)
    stats = np.stack([last, mean, high, slope], axis=1)
    stats[count == 0] = np.nan
    return stats.ravel()


def _matrix(samples: Sequence[Sample]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Metric names (sorted), sample times and a time x metric matrix (NaN: not recorded)."""
    metrics = sorted({m for _, values in samples for m in values})
    t = np.array([at for at, _ in samples], dtype=float)
    v = np.array([[values.get(m, math.nan) for m in metrics] for _, values in samples], dtype=float)
    return metrics, t, v.reshape(len(t), len(metrics))


def window_features(
    samples: Sequence[Sample], now: float, lookback: float = LOOKBACK
) -> dict[str, float]:
    """One row for ``predict_risk``: the samples in ``(now - lookback, now]`` summarised."""
    metrics, t, v = _matrix([s for s in samples if now - lookback < s[0] <= now])
    row = _summarise(t, v).tolist() if len(t) else []
    return dict(zip(feature_names(metrics), row, strict=True))


def build_dataset(
    samples: Sequence[Sample],
    incidents: Iterable[float | tuple[float, float | None]],
    horizon: float = 900.0,
    step: float = 60.0,
    lookback: float = LOOKBACK,
) -> Dataset:
    """Rows every ``step`` seconds over a check's history (``samples`` in time order), labelled
    1 when a rule incident opened within ``horizon`` after the row. ``incidents`` are open times
    or (opened, resolved) pairs (``None``: still open); rows while an incident was open, or
    whose window still holds its samples, are left out, as are rows too recent to be labelled."""
    pairs = [(i, i) if isinstance(i, int | float) else (i[0], i[1] or math.inf) for i in incidents]
    opened, closed = np.array(pairs, dtype=float).reshape(-1, 2).T
    metrics, t, v = _matrix(samples)
    grid = np.arange(t[0] + lookback, t[-1] - horizon, step) if len(t) else np.empty(0)
    g = grid[:, None]
    failing = ((g >= opened) & (g < closed + lookback) & (closed > opened)).any(axis=1)
    rows, labels, times = [], [], []
    for at in grid[~failing]:
        lo, hi = np.searchsorted(t, [at - lookback, at], side="right")
        if hi > lo:
            rows.append(_summarise(t[lo:hi], v[lo:hi]))
            labels.append(bool(((opened > at) & (opened <= at + horizon)).any()))
            times.append(at)
    names = feature_names(metrics)
    X = np.array(rows, dtype=float).reshape(len(rows), len(names))
    return Dataset(X=X, y=np.array(labels, dtype=int), times=np.array(times), feature_names=names)


def _runs(flags: np.ndarray) -> list[slice]:
    """The runs of true values, as slices."""
    edges = np.flatnonzero(np.diff(np.r_[0, np.asarray(flags, dtype=int), 0]))
    return [slice(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _event_scores(raised: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """Precision: warnings (runs of raised rows) holding a positive row, i.e. followed by a
    failure within the horizon. Recall: failures (runs of positive rows) with a raised row."""
    warnings, failures = _runs(raised), _runs(y)
    precision = sum(bool(y[w].any()) for w in warnings) / len(warnings) if warnings else None
    recall = sum(bool(raised[f].any()) for f in failures) / len(failures) if failures else None
    return precision, recall


class FailureRisk(Estimator):
    """A class-balanced random forest over ``build_dataset`` rows, compiled to flat arrays.

    scikit-learn estimator contract: parameters only here, ``fit`` returns ``self``, what it
    learns ends in ``_``. Only ``fit`` imports scikit-learn (it runs in a worker process);
    a fitted model predicts from plain numpy arrays. See the module docstring for the minimums and the hold-out.
    """

    def __init__(
        self,
        horizon: float = 900.0,
        threshold: float = 0.8,
        n_estimators: int = 50,
        max_depth: int = 8,
        holdout: float = 0.25,
        min_samples: int = 500,
        min_failures: int = 3,
        min_precision: float = 0.5,
        top: int = 3,
        random_state: int = 0,
    ) -> None:
        self.horizon, self.threshold, self.holdout = horizon, threshold, holdout
        self.n_estimators, self.max_depth, self.random_state = n_estimators, max_depth, random_state
        self.min_samples, self.min_failures = min_samples, min_failures
        self.min_precision, self.top = min_precision, top

    def _forest(self, X: np.ndarray, y: np.ndarray) -> RandomForestClassifier:
        from sklearn.ensemble import RandomForestClassifier  # only here: see the class docstring

        return RandomForestClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            min_samples_leaf=3,
            class_weight="balanced",
            n_jobs=1,
            random_state=self.random_state,
        ).fit(X, y)

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        feature_names: Sequence[str],
        times: np.ndarray | None = None,
    ) -> FailureRisk:
        """Measure on the time-ordered hold-out, then fit on every row. Rows must be in time
        order; ``times`` (seconds) purges training rows whose label window reaches the hold-out.
        Too little history, or a single class, leaves the model LEARNING (no prediction)."""
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)
        for name in _ARRAYS:  # a refit starts from nothing, whatever it reaches
            self.__dict__.pop(name, None)
        self.feature_names_ = tuple(feature_names)
        self.n_samples_, self.n_failures_ = len(y), len(_runs(y))
        self.precision_ = self.recall_ = None
        self.state_, self.depth_ = RiskState.LEARNING, 0
        cut = int(len(y) * (1.0 - self.holdout))
        train = np.arange(cut)
        if times is not None and cut < len(y):
            train = train[np.asarray(times)[:cut] + self.horizon < np.asarray(times)[cut]]
        enough = len(y) >= self.min_samples and self.n_failures_ >= self.min_failures
        if not enough or not y[cut:].any() or len(np.unique(y[train])) < 2:
            return self
        self.fill_ = np.nan_to_num(np.nanmedian(np.where(np.isnan(X).all(axis=0), 0.0, X), axis=0))
        X = np.where(np.isnan(X), self.fill_, X)
        raised = self._forest(X[train], y[train]).predict_proba(X[cut:])[:, 1] >= self.threshold
        self.precision_, self.recall_ = _event_scores(raised, y[cut:])
        self._compile(self._forest(X, y))
        q1, self.center_, q3 = np.percentile(X, [25, 50, 75], axis=0)
        self.scale_ = np.maximum(q3 - q1, 1e-6 * (1.0 + np.abs(self.center_)))
        good = (self.precision_ or 0.0) >= self.min_precision and (self.recall_ or 0.0) > 0.0
        self.state_ = RiskState.READY if good else RiskState.UNRELIABLE
        return self

    def _compile(self, forest: RandomForestClassifier) -> None:
        """The trees as padded arrays (leaves loop to themselves) and P(failure) per node."""
        trees = [est.tree_ for est in forest.estimators_]
        shape = (len(trees), max(t.node_count for t in trees))
        self.left_ = np.tile(np.arange(shape[1]), (shape[0], 1))
        self.right_, self.feature_ = self.left_.copy(), np.zeros(shape, dtype=np.intp)
        self.threshold_, self.value_ = np.zeros(shape), np.zeros(shape)
        for i, t in enumerate(trees):
            n, inner = t.node_count, t.children_left >= 0
            self.left_[i, :n] = np.where(inner, t.children_left, np.arange(n))
            self.right_[i, :n] = np.where(inner, t.children_right, np.arange(n))
            self.feature_[i, :n] = np.maximum(t.feature, 0)
            self.threshold_[i, :n] = np.where(inner, t.threshold, np.inf)
            self.value_[i, :n] = t.value[:, 0, 1] / t.value[:, 0, :].sum(axis=1)
        self.depth_ = int(max(t.max_depth for t in trees))
        self.importances_ = np.asarray(forest.feature_importances_, dtype=float)

    def status(self) -> RiskStatus:
        """LEARNING (with the counts so far), UNRELIABLE, READY or BROKEN; cheap."""
        return RiskStatus(
            state=getattr(self, "state_", RiskState.LEARNING),
            n_samples=getattr(self, "n_samples_", 0),
            n_failures=getattr(self, "n_failures_", 0),
            precision=getattr(self, "precision_", None),
            recall=getattr(self, "recall_", None),
        )

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(no failure), P(failure) per row, equal to the scikit-learn forest's."""
        X = np.asarray(X, dtype=float)
        X = np.where(np.isnan(X), self.fill_, X).astype(np.float32)  # trees split on float32
        rows, trees = np.arange(len(X))[:, None], np.arange(self.feature_.shape[0])[None, :]
        node = np.zeros((len(X), self.feature_.shape[0]), dtype=np.intp)
        for _ in range(self.depth_):
            go_left = X[rows, self.feature_[trees, node]] <= self.threshold_[trees, node]
            node = np.where(go_left, self.left_[trees, node], self.right_[trees, node])
        p = self.value_[trees, node].mean(axis=1)
        return np.stack([1.0 - p, p], axis=1)

    def predict_risk(self, features: Mapping[str, float]) -> RiskScore | None:
        """Risk for one ``window_features`` row; ``None`` unless READY. Never raises."""
        if getattr(self, "state_", None) is not RiskState.READY:
            return None
        try:
            x = np.array([[features.get(n, math.nan) for n in self.feature_names_]], dtype=float)
            risk = float(self.predict_proba(x)[0, 1])
            filled = np.where(np.isnan(x[0]), self.fill_, x[0])
            weight = self.importances_ * np.abs(filled - self.center_) / self.scale_
        except Exception:  # a broken model means "no prediction", never a dead loop
            log.exception("failure-risk model failed; dropped until the next fit")
            self.state_ = RiskState.BROKEN
            return None
        total = float(weight.sum())
        order = np.argsort(-weight, kind="stable")[: self.top]
        order = [i for i in order if weight[i] >= 0.02 * total > 0.0]  # drop the negligible
        top = tuple((self.feature_names_[i], float(weight[i]) / total) for i in order)
        return RiskScore(risk=risk, threshold=self.threshold, top_features=top)

    # -- persistence ------------------------------------------------------------------------

    def _layout(self) -> dict[str, Any]:
        return {"format": _STATE_FORMAT, "params": self.get_params()}

    def state_dict(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The compiled trees and statistics as arrays; counts, scores and names as metadata."""
        arrays = {name: getattr(self, name) for name in _ARRAYS if hasattr(self, name)}
        learned = {k: getattr(self, k + "_", None) for k in _LEARNED}
        state, names = self.status().state.value, list(getattr(self, "feature_names_", ()))
        return arrays, {**self._layout(), **learned, "state": state, "feature_names": names}

    def load_state_dict(self, arrays: Arrays, meta: Mapping[str, Any]) -> None:
        """Restore ``state_dict`` output; ``StateMismatch`` (nothing changed) if it does not fit."""
        for field, expected in self._layout().items():
            if meta.get(field) != expected:
                raise StateMismatch(field, expected, meta.get(field))
        for name in _ARRAYS:
            if name in arrays:
                setattr(self, name, np.asarray(arrays[name]))
        for k in _LEARNED:
            setattr(self, k + "_", meta[k])
        self.state_, self.feature_names_ = RiskState(meta["state"]), tuple(meta["feature_names"])

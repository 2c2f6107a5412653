"""Streaming anomaly detection: every sample of every metric, plus a forest per metric group.

Two stages, each where it pays:

1. **Per metric, every sample (streaming, pure Python).** Four features of the trailing
   series: the value, the jump from the previous value, the short-term level (mean of the last
   ``level_span`` samples) and the seasonal residual (value minus a time-of-day profile). Each
   feature keeps its last ``window`` values with their median and their ``extreme_rank``-th
   most extreme values at both ends. A sample's *exceedance* for a feature is its distance from
   that median in units of the median's distance to the reference extreme: 1 means "as far out
   as the rare extremes of the recent past". The score maps the largest exceedance ``e`` to
   ``e / (e + 1 + margin)``, so the default threshold 0.5 means "beyond the recent extremes by
   ``margin``" whatever the metric's unit, scale or noise: no per-metric tuning. Scales are
   robust (order statistics, not means), seasonality is the profile, a change point is
   learned within one window (the new level fills it), and after a detection the series is
   refractory for ``refractory`` samples: one episode, one alert. Cost: about 15 us a sample.

2. **Per group ("check|subject", two metrics or more), once an interval.** Each metric
   normalised by its own window, plus each metric's departure from the group mean, form one
   row; a ``GroupForest`` (an IsolationForest fitted in a worker on past rows) says whether
   the *combination* is unusual when no single metric is. Every group's forest is merged into
   one flat forest (``_ForestBank``) and scored in a single numpy traversal an interval, with
   no per-call scikit-learn overhead. Its isolation score, and each column against its
   training extremes (isolation saturates outside the training range), become an exceedance
   over the training rows, so the same threshold applies. Measured on NAB, a forest over a
   single metric's features added no detection over stage 1 and cost 30x the time, so single
   metrics do not use one.

See ``models.base`` for how the engine drives a detector.
"""

from __future__ import annotations

import functools
import logging
import math
import zlib
from array import array
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from models.base import (
    DEFAULT_THRESHOLD,
    AnomalyScore,
    Arrays,
    Detector,
    Estimator,
    StateMismatch,
    TrainingSnapshot,
    clone,
)

log = logging.getLogger(__name__)

FEATURES = ("value", "jump", "level", "seasonal")
"""The streaming features, in the order their windows are kept and saved."""
_DAY = 86400.0
_STATE_FORMAT = 1
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


def _excess(v: float, w: _Window, floor: float, two_sided: bool) -> float:
    """How far ``v`` is from the window's median, in units of the median's distance to the
    reference extreme on that side: 1 means "as far out as the rare extremes"."""
    med = w.median
    e = (v - med) / (w.high[-1] - med + floor)
    if two_sided:
        e2 = (med - v) / (med - w.low[-1] + floor)
        if e2 > e:
            return e2
    return e


def _exceedance_score(e: float, margin: float) -> float:
    """Map an exceedance (1 = at the reference extreme) to [0, 1); 1 + margin maps to 0.5."""
    return e / (e + 1.0 + margin) if e > 0.0 else 0.0


def _refractory(
    score: float, threshold: float, n: int, last: int, samples: int
) -> tuple[float, int]:
    """One detection per episode: a score at or over the threshold within ``samples`` of the
    previous detection is held under it (at 99 % of it, clear of any rounding when written
    out). Returns the score and the sample number of the last detection."""
    if score < threshold:
        return score, last
    if n - last <= samples:
        return 0.99 * threshold, last
    return score, n


def _average_path_length(n: np.ndarray) -> np.ndarray:
    """Expected depth of an unsuccessful search in a binary tree of ``n`` samples (iForest c(n))."""
    n = np.asarray(n, dtype=float)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


class GroupForest(Estimator):
    """IsolationForest compiled to flat arrays, scored vectorised over rows and trees.

    Follows the scikit-learn estimator contract: parameters in ``__init__``, ``fit`` returns
    ``self``, fitted attributes end in ``_``. Only ``fit`` imports scikit-learn (it runs in a
    worker process); a fitted forest is plain numpy arrays. ``score_samples`` equals
    ``IsolationForest.score_samples`` negated (higher = more anomalous), without its per-call
    overhead; ``exceedance`` calibrates it against the training rows' own scores.
    """

    def __init__(
        self,
        n_estimators: int = 50,
        max_samples: int = 256,
        extreme_rank: int = 4,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.extreme_rank = extreme_rank
        self.random_state = random_state

    def fit(self, X: np.ndarray, feature_names: Sequence[str] | None = None) -> GroupForest:
        """Fit the forest on rows ``X`` (n_rows x n_features) and compile it."""
        from sklearn.ensemble import IsolationForest  # only here: see the class docstring

        X = np.asarray(X, dtype=float)
        forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, len(X)),
            random_state=self.random_state,
        ).fit(X)
        trees = [est.tree_ for est in forest.estimators_]
        width = max(t.node_count for t in trees)
        shape = (len(trees), width)
        self.feature_ = np.zeros(shape, dtype=np.intp)
        self.threshold_ = np.zeros(shape)
        self.left_ = np.tile(np.arange(width), (len(trees), 1))  # padding and leaves: loop
        self.right_ = self.left_.copy()
        self.leaf_value_ = np.zeros(shape)
        for i, (t, cols) in enumerate(zip(trees, forest.estimators_features_, strict=True)):
            n, inner = t.node_count, t.children_left >= 0
            self.feature_[i, :n] = np.where(inner, np.asarray(cols)[np.maximum(t.feature, 0)], 0)
            self.threshold_[i, :n] = np.where(inner, t.threshold, np.inf)
            self.left_[i, :n] = np.where(inner, t.children_left, np.arange(n))
            self.right_[i, :n] = np.where(inner, t.children_right, np.arange(n))
            depth = t.compute_node_depths() - 1.0
            self.leaf_value_[i, :n] = depth + _average_path_length(t.n_node_samples)
        self.depth_ = int(max(t.max_depth for t in trees))
        self.norm_ = float(len(trees) * _average_path_length(np.array([forest.max_samples_]))[0])
        self.n_features_in_ = X.shape[1]
        names = feature_names if feature_names is not None else [f"x{i}" for i in range(X.shape[1])]
        self.feature_names_in_ = np.asarray(list(names), dtype=object)
        rank = min(self.extreme_rank, len(X)) - 1
        train = np.sort(self.score_samples(X))
        self.usual_ = np.array([train[len(train) // 2], train[len(train) - 1 - rank]])
        # Per column: median and reference extremes. Isolation saturates outside the training
        # range (a point far out is isolated no faster than the edge points), so each column
        # also gets the streaming stage's exceedance test.
        cols = np.sort(X, axis=0)
        floor = 0.02 * (cols[-1] - cols[0]) + 1e-9
        self.columns_ = np.stack(
            [cols[len(X) // 2], cols[len(X) - 1 - rank] + floor, cols[rank] - floor]
        )
        return self

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """Isolation score of each row, in (0, 1]: higher is more anomalous."""
        X = np.asarray(X, dtype=np.float32)  # trees compare float32 inputs, as scikit-learn does
        rows = np.arange(len(X))[:, None]
        trees = np.arange(self.feature_.shape[0])[None, :]
        node = np.zeros((len(X), self.feature_.shape[0]), dtype=np.intp)
        for _ in range(self.depth_):
            go_left = X[rows, self.feature_[trees, node]] <= self.threshold_[trees, node]
            node = np.where(go_left, self.left_[trees, node], self.right_[trees, node])
        depth = self.leaf_value_[trees, node].sum(axis=1)
        return 2.0 ** (-depth / self.norm_)

    def exceedance(self, X: np.ndarray) -> np.ndarray:
        """How unusual each row is, 1 meaning "as unusual as the rare training rows": the
        larger of the isolation score past the training median (in units of the training's
        ``extreme_rank``-th highest score) and any column past its own reference extremes."""
        X = np.asarray(X, dtype=float)
        med, high = self.usual_
        isolation = (self.score_samples(X) - med) / max(high - med, 1e-9)
        center, upper, lower = self.columns_
        columns = np.maximum((X - center) / (upper - center), (center - X) / (center - lower))
        return np.maximum(isolation, columns.max(axis=1))

    _ARRAYS = ("feature_", "threshold_", "left_", "right_", "leaf_value_", "usual_", "columns_")

    def to_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Fitted arrays plus JSON-able metadata (for ``models.persistence``)."""
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        meta = {
            "params": self.get_params(),
            "depth": self.depth_,
            "norm": self.norm_,
            "feature_names": [str(f) for f in self.feature_names_in_],
        }
        return arrays, meta

    @classmethod
    def from_state(cls, arrays: Arrays, meta: Mapping[str, Any]) -> GroupForest:
        """Rebuild a fitted forest from ``to_state`` output."""
        forest = cls(**meta["params"])
        for name in cls._ARRAYS:
            setattr(forest, name, np.asarray(arrays[name]))
        forest.depth_, forest.norm_ = int(meta["depth"]), float(meta["norm"])
        forest.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
        forest.n_features_in_ = len(forest.feature_names_in_)
        return forest


class _ForestBank:
    """Every group's forest merged into one flat forest, so one interval's group rows are
    scored in a single traversal (a few numpy calls in all, not a few per group).

    Node ids, children and feature indices are offset so that tree ``t`` of group ``g`` reads
    its own columns of the concatenated rows. Equal to each forest's ``exceedance``.
    """

    def __init__(self, models: Mapping[str, GroupForest]) -> None:
        self.groups = sorted(models)
        feature, threshold, left, right, value, roots, starts = [], [], [], [], [], [], []
        usual, columns, col_starts = [], [], []
        nodes = cols = trees = 0
        self.norm = np.array([models[g].norm_ for g in self.groups])
        self.depth = max((models[g].depth_ for g in self.groups), default=0)
        for g in self.groups:
            m = models[g]
            n_trees, width = m.feature_.shape
            offsets = nodes + width * np.arange(n_trees)[:, None]
            feature.append((m.feature_ + cols).ravel())
            threshold.append(m.threshold_.ravel())
            left.append((m.left_ + offsets).ravel())
            right.append((m.right_ + offsets).ravel())
            value.append(m.leaf_value_.ravel())
            roots.append(offsets.ravel())
            starts.append(trees)
            usual.append(m.usual_)
            columns.append(m.columns_)
            col_starts.append(cols)
            nodes, cols, trees = nodes + n_trees * width, cols + m.n_features_in_, trees + n_trees
        if not self.groups:
            return
        self.feature, self.threshold = np.concatenate(feature), np.concatenate(threshold)
        self.left, self.right = np.concatenate(left), np.concatenate(right)
        self.value, self.roots = np.concatenate(value), np.concatenate(roots)
        self.starts, self.col_starts = np.array(starts), np.array(col_starts)
        self.usual, self.columns = np.array(usual), np.concatenate(columns, axis=1)
        self.width = cols

    def exceedance(self, rows: Mapping[str, Sequence[float]]) -> dict[str, float]:
        """Exceedance of each group's row (groups without a row in ``rows`` get none)."""
        if not self.groups:
            return {}
        x = np.zeros(self.width)
        for g, start in zip(self.groups, self.col_starts, strict=True):
            row = rows.get(g)
            if row is not None:
                x[start : start + len(row)] = row
        xs = x.astype(np.float32)  # trees compare float32 inputs, as scikit-learn does
        node = self.roots
        for _ in range(self.depth):
            go_left = xs.take(self.feature.take(node)) <= self.threshold.take(node)
            node = np.where(go_left, self.left.take(node), self.right.take(node))
        depth = np.add.reduceat(self.value.take(node), self.starts)
        med, high = self.usual[:, 0], self.usual[:, 1]
        isolation = (2.0 ** (-depth / self.norm) - med) / np.maximum(high - med, 1e-9)
        center, upper, lower = self.columns
        per_column = np.maximum((x - center) / (upper - center), (center - x) / (center - lower))
        worst = np.maximum.reduceat(per_column, self.col_starts)
        e = np.maximum(isolation, worst)
        return {g: float(e[i]) for i, g in enumerate(self.groups) if g in rows}


def fit_group_models(snapshot: TrainingSnapshot, template: GroupForest) -> dict[str, GroupForest]:
    """Fit one forest per group of ``snapshot``: a pure function (imports scikit-learn)."""
    return {
        group: clone(template).fit(rows, feature_names=names)
        for group, (names, rows) in sorted(snapshot.groups.items())
    }


GroupStates = dict[str, tuple[dict[str, np.ndarray], dict[str, Any]]]
"""Fitted forests as ``GroupForest.to_state`` output, by group: arrays and plain dicts."""


def fit_group_states(snapshot: TrainingSnapshot, params: Mapping[str, Any]) -> GroupStates:
    """``fit_group_models`` for a worker process: a ``GroupForest`` with ``params`` per group,
    returned as plain arrays and dicts (they pickle without any scikit-learn object)."""
    fitted = fit_group_models(snapshot, GroupForest(**params))
    return {group: forest.to_state() for group, forest in fitted.items()}


def group_models_from_states(states: GroupStates) -> dict[str, GroupForest]:
    """The forests ``fit_group_states`` returned, rebuilt for ``AnomalyDetector.install``."""
    return {group: GroupForest.from_state(*state) for group, state in states.items()}


class AnomalyDetector(Detector, Estimator):
    """Scores every sample of every metric, and every interval of every multi-metric group.

    Parameters (all global: the defaults are meant for every metric, see the module docstring):
    ``window`` samples of history per feature; ``extreme_rank``: the reference extreme is the
    k-th most extreme value of the window; ``margin``: how far past it (in units of its distance
    from the median) scores 0.5; ``warmup`` samples before a series has scores; ``refractory``
    samples after a detection during which the series does not fire again; ``level_span``
    samples in the short-term level; ``season_buckets`` per day in the time-of-day profile,
    learnt at ``season_rate``; ``floor``: the smallest scale, as a fraction of the value
    window's range (quantised or flat metrics); ``threshold``: the default alert threshold.
    Group forests: ``group_model`` (a ``GroupForest`` template), refitted every
    ``retrain_every`` seconds from the last ``group_rows`` rows once a group has
    ``min_group_rows``.
    """

    def __init__(
        self,
        window: int = 2000,
        extreme_rank: int = 4,
        margin: float = 0.3,
        warmup: int = 300,
        refractory: int = 30,
        level_span: int = 6,
        season_buckets: int = 48,
        season_rate: float = 0.1,
        floor: float = 0.02,
        threshold: float = DEFAULT_THRESHOLD,
        group_model: GroupForest | None = None,
        retrain_every: float = 3600.0,
        group_rows: int = 2000,
        min_group_rows: int = 300,
    ) -> None:
        self.window = window
        self.extreme_rank = extreme_rank
        self.margin = margin
        self.warmup = warmup
        self.refractory = refractory
        self.level_span = level_span
        self.season_buckets = season_buckets
        self.season_rate = season_rate
        self.floor = floor
        self.threshold = threshold
        self.group_model = group_model
        self.retrain_every = retrain_every
        self.group_rows = group_rows
        self.min_group_rows = min_group_rows
        self._reset()

    def _reset(self) -> None:
        # A streaming estimator starts fitted on nothing; everything learned ends in "_".
        self.series_: dict[str, _Series] = {}
        self.members_: dict[str, list[str]] = {}
        self.group_history_: dict[str, tuple[tuple[str, ...], deque[list[float]]]] = {}
        self.group_models_: dict[str, GroupForest] = {}
        self.bank_: _ForestBank | None = None  # group_models_ merged; rebuilt when they change
        self.group_detection_: dict[str, int] = {}
        self.last_fit_: float | None = None
        self.touched_: set[str] = set()

    @property
    def template(self) -> GroupForest:
        """The estimator ``fit_group_models`` clones for each group."""
        return self.group_model if self.group_model is not None else GroupForest()

    # -- stage 1: every sample -------------------------------------------------------------

    def score(
        self, key: str, at: float, value: float, threshold: float | None = None
    ) -> AnomalyScore | None:
        """Score one sample of ``key`` against that series' past, then learn from it."""
        x = float(value)
        if x - x or at - at:  # NaN or infinite (x - x is 0.0 for every finite x)
            return None
        s = self.series_.get(key)
        if s is None:
            s = self._new_series(key)
        self.touched_.add(s.group)
        recent = s.recent
        if len(recent) == recent.maxlen:
            s.recent_sum -= recent[0]
        recent.append(x)
        s.recent_sum += x
        buckets = self.season_buckets
        bucket = min(int((at % _DAY) * buckets / _DAY), buckets - 1)
        base = s.profile[bucket]
        jump = abs(x - s.prev) if s.n else 0.0
        level = s.recent_sum / len(recent)
        seasonal = x - base  # NaN until this time-of-day bucket has been seen
        w_value, w_jump, w_level, w_seasonal = s.windows

        low = high = x
        floor = 1e-9 * (1.0 + abs(x))
        excess = (0.0, 0.0, 0.0, 0.0)
        if len(w_value.ring) >= _MIN_WINDOW:  # value, jump and level windows fill together
            low, high = w_value.low[-1], w_value.high[-1]
            floor += self.floor * (w_value.high[0] - w_value.low[0])
            s.norm = (x - w_value.median) / (high - low + floor)
            excess = (
                _excess(x, w_value, floor, True),
                _excess(jump, w_jump, floor, False),
                _excess(level, w_level, floor, True),
                _excess(seasonal, w_seasonal, floor, True)
                if seasonal == seasonal and len(w_seasonal.ring) >= _MIN_WINDOW
                else 0.0,
            )
        w_value.add(x)
        w_jump.add(jump)
        w_level.add(level)
        if seasonal == seasonal:
            w_seasonal.add(seasonal)
        s.profile[bucket] = x if base != base else base + self.season_rate * (x - base)
        s.prev = x
        s.n += 1
        if s.n <= self.warmup:
            return None
        limit = self.threshold if threshold is None else threshold
        best = max(excess)
        score = best / (best + 1.0 + self.margin) if best > 0.0 else 0.0  # _exceedance_score
        if score >= limit:  # _refractory, inlined: this runs for every sample
            if s.n - s.last_detection <= self.refractory:
                score = 0.99 * limit
            else:
                s.last_detection = s.n
        return AnomalyScore(
            metric=key,
            at=at,
            value=x,
            score=score,
            threshold=limit,
            usual_low=low,
            usual_high=high,
            contributions=_shares(zip(FEATURES, excess, strict=True)) if score >= limit else (),
        )

    def _new_series(self, key: str) -> _Series:
        s = self.series_[key] = _Series(
            key, self.window, self.extreme_rank, self.season_buckets, self.level_span
        )
        self.members_.setdefault(s.group, []).append(key)
        self.members_[s.group].sort()
        return s

    # -- stage 2: groups, once an interval ---------------------------------------------------

    def score_groups(self, at: float, threshold: float | None = None) -> list[AnomalyScore]:
        """Record this interval's row for every group touched since the last call and score
        it with the group's forest, if one is installed and fits the group's metrics."""
        touched, self.touched_ = self.touched_, set()
        limit = self.threshold if threshold is None else threshold
        rows: dict[str, list[float]] = {}
        for group in sorted(touched):
            names = tuple(self.members_.get(group, ()))
            if len(names) < 2:
                continue
            norms = [self.series_[k].norm for k in names]
            mean = sum(norms) / len(norms)
            row = norms + [v - mean for v in norms]
            features = _group_features(names)
            history = self.group_history_.get(group)
            if history is None or history[0] != features:
                history = self.group_history_[group] = (features, deque(maxlen=self.group_rows))
            history[1].append(row)
            model = self.group_models_.get(group)
            if model is not None and tuple(model.feature_names_in_) == features:
                rows[group] = row
        if not rows:
            return []
        try:
            if self.bank_ is None:
                self.bank_ = _ForestBank(self.group_models_)
            exceedances = self.bank_.exceedance(rows)
        except Exception:  # a broken model means "no prediction", never a dead loop
            log.exception("group models failed; dropped until the next retrain")
            self.group_models_, self.bank_ = {}, None
            return []
        out: list[AnomalyScore] = []
        for group, e in exceedances.items():
            names = self.members_[group]
            model, row = self.group_models_[group], rows[group]
            history = self.group_history_[group]
            n = len(history[1])
            score, self.group_detection_[group] = _refractory(
                _exceedance_score(e, self.margin),
                limit,
                n,
                self.group_detection_.get(group, -(10**9)),
                self.refractory,
            )
            out.append(
                AnomalyScore(
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
            )
        return out

    def fit_due(self, now: float) -> bool:
        """True once ``retrain_every`` has passed and some group has enough rows to fit."""
        if self.last_fit_ is not None and now - self.last_fit_ < self.retrain_every:
            return False
        return any(len(rows) >= self.min_group_rows for _, rows in self.group_history_.values())

    def snapshot(self, now: float) -> TrainingSnapshot:
        """Copy the rows of every group ready to fit; marks the retrain as started."""
        self.last_fit_ = now
        groups = {
            group: (names, np.array(rows, dtype=float))
            for group, (names, rows) in self.group_history_.items()
            if len(rows) >= self.min_group_rows
        }
        return TrainingSnapshot(taken_at=now, groups=groups)

    def install(self, fitted: Mapping[str, Any]) -> None:
        """Swap in the forests a worker fitted (groups missing from ``fitted`` keep theirs)."""
        self.group_models_.update(fitted)
        self.bank_ = None

    # -- persistence ---------------------------------------------------------------------------

    def _layout(self) -> dict[str, Any]:
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "group_model"}
        return {"format": _STATE_FORMAT, "features": list(FEATURES), "params": params}

    def state_dict(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Everything learned: per-series windows and profiles, group rows, fitted forests."""
        arrays: dict[str, np.ndarray] = {}
        series = []
        for i, (key, s) in enumerate(sorted(self.series_.items())):
            series.append(
                {
                    "key": key,
                    "n": s.n,
                    "prev": s.prev,
                    "norm": s.norm,
                    "last": s.last_detection,
                    "recent_sum": s.recent_sum,  # a running sum: restored as is, not re-added
                }
            )
            for name, w in zip(FEATURES, s.windows, strict=True):
                arrays[f"s{i}.{name}"] = w.chronological()
                arrays[f"s{i}.{name}.stats"] = w.stats()
            arrays[f"s{i}.profile"] = np.array(s.profile)
            arrays[f"s{i}.recent"] = np.array(s.recent)
        groups = []
        for i, (group, (names, rows)) in enumerate(sorted(self.group_history_.items())):
            groups.append(
                {"group": group, "names": list(names), "last": self.group_detection_.get(group)}
            )
            arrays[f"g{i}.rows"] = np.array(rows, dtype=float).reshape(len(rows), len(names))
        models = []
        for i, (group, model) in enumerate(sorted(self.group_models_.items())):
            model_arrays, model_meta = model.to_state()
            models.append({"group": group, **model_meta})
            arrays.update({f"m{i}.{k}": v for k, v in model_arrays.items()})
        meta = {
            **self._layout(),
            "last_fit": self.last_fit_,
            "series": series,
            "groups": groups,
            "models": models,
        }
        return arrays, meta

    def load_state_dict(self, arrays: Arrays, meta: Mapping[str, Any]) -> None:
        """Replace everything learned with a saved state; ``StateMismatch`` if it does not fit."""
        for field, expected in self._layout().items():
            if meta.get(field) != expected:
                raise StateMismatch(field, expected, meta.get(field))
        self._reset()
        for i, item in enumerate(meta["series"]):
            s = self._new_series(item["key"])
            s.n, s.prev, s.norm, s.last_detection = (
                item["n"],
                item["prev"],
                item["norm"],
                item["last"],
            )
            s.windows = tuple(
                _Window.restore(
                    self.window,
                    self.extreme_rank,
                    arrays[f"s{i}.{name}"],
                    arrays[f"s{i}.{name}.stats"],
                )
                for name in FEATURES
            )
            s.profile = [float(v) for v in arrays[f"s{i}.profile"]]
            s.recent.extend(float(v) for v in arrays[f"s{i}.recent"])
            s.recent_sum = item["recent_sum"]
        for i, item in enumerate(meta["groups"]):
            rows = deque((list(r) for r in arrays[f"g{i}.rows"]), maxlen=self.group_rows)
            self.group_history_[item["group"]] = (tuple(item["names"]), rows)
            if item["last"] is not None:
                self.group_detection_[item["group"]] = item["last"]
        for i, item in enumerate(meta["models"]):
            model_arrays = {k: arrays[f"m{i}.{k}"] for k in GroupForest._ARRAYS}
            self.group_models_[item["group"]] = GroupForest.from_state(model_arrays, item)
        self.last_fit_ = meta["last_fit"]


@functools.lru_cache(maxsize=1024)
def _group_features(metrics: tuple[str, ...]) -> tuple[str, ...]:
    """A group row: each metric normalised by its own window, then each metric's departure
    from the group's mean (so "one metric left the others" is one axis-aligned split)."""
    return (*metrics, *(f"{m}~group" for m in metrics))


def _shares(items: Iterable[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """Positive weights normalised to sum to 1, largest first (ties by name)."""
    positive = [(name, w) for name, w in items if w > 0.0]
    total = sum(w for _, w in positive)
    if total <= 0.0:
        return ()
    return tuple(sorted(((n, w / total) for n, w in positive), key=lambda p: (-p[1], p[0])))


def score_interval(
    detector: Detector,
    at: float,
    samples: Iterable[tuple[str, float]],
    thresholds: Mapping[str, float] | None = None,
) -> list[AnomalyScore]:
    """One interval, exactly as the engine runs it: every sample, then the group views.

    ``samples`` are ``(key, value)`` pairs observed at ``at``; ``thresholds`` maps a key (or a
    group key) to a per-check override. Returns every score (not only detections); a series
    still warming up contributes nothing. The NAB bench calls this same function.
    """
    limits = thresholds or {}
    out = []
    for key, value in samples:
        result = detector.score(key, at, value, limits.get(key))
        if result is not None:
            out.append(result)
    out.extend(detector.score_groups(at))
    return out

"""Stage 2's model: the isolation forest of one metric group, and how it is fitted.

``GroupForest`` is fitted in a worker process (the only place scikit-learn is imported) and
compiled to plain numpy arrays; ``fit_group_states`` / ``group_models_from_states`` carry the
fitted forests across the process boundary as arrays and dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from models.base import Arrays, Estimator, TrainingSnapshot, clone


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

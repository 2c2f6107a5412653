"""The detector: both stages behind the ``models.base.Detector`` interface, and its state."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np

from models.anomaly.bank import _ForestBank
from models.anomaly.forest import GroupForest
from models.anomaly.groups import group_features, group_row, group_score
from models.anomaly.scoring import _exceedance_score, _refractory, _shares
from models.anomaly.windows import _DAY, FEATURES, _Series, _Window, exceedances
from models.base import (
    DEFAULT_THRESHOLD,
    AnomalyScore,
    Arrays,
    Detector,
    Estimator,
    StateMismatch,
    TrainingSnapshot,
)

log = logging.getLogger("models.anomaly")  # the package's logger, as before the split
_STATE_FORMAT = 1


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
        s = self.series_.get(key) or self._new_series(key)
        self.touched_.add(s.group)
        recent = s.recent
        if len(recent) == recent.maxlen:
            s.recent_sum -= recent[0]
        recent.append(x)
        s.recent_sum += x
        bucket = min(int((at % _DAY) * self.season_buckets / _DAY), self.season_buckets - 1)
        base = s.profile[bucket]
        jump = abs(x - s.prev) if s.n else 0.0
        level = s.recent_sum / len(recent)
        seasonal = x - base  # NaN until this time-of-day bucket has been seen
        low, high, excess = exceedances(s, x, jump, level, seasonal, self.floor)
        w_value, w_jump, w_level, w_seasonal = s.windows  # then learn the sample
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
        rows = self._record_group_rows(touched)
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
            score, self.group_detection_[group] = _refractory(
                _exceedance_score(e, self.margin),
                limit,
                len(self.group_history_[group][1]),
                self.group_detection_.get(group, -(10**9)),
                self.refractory,
            )
            model, names = self.group_models_[group], self.members_[group]
            out.append(group_score(group, names, model, rows[group], at, e, score, limit))
        return out

    def _record_group_rows(self, touched: set[str]) -> dict[str, list[float]]:
        """Append this interval's row to the history of every touched group of two metrics or
        more; returns the rows of the groups whose installed forest fits their metrics."""
        rows: dict[str, list[float]] = {}
        for group in sorted(touched):
            names = tuple(self.members_.get(group, ()))
            if len(names) < 2:
                continue
            row = group_row([self.series_[k].norm for k in names])
            features = group_features(names)
            history = self.group_history_.get(group)
            if history is None or history[0] != features:
                history = self.group_history_[group] = (features, deque(maxlen=self.group_rows))
            history[1].append(row)
            model = self.group_models_.get(group)
            if model is not None and tuple(model.feature_names_in_) == features:
                rows[group] = row
        return rows

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

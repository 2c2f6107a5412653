"""The detector: both stages behind the ``models.base.Detector`` interface, and its state."""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from models.anomaly.bank import _ForestBank
from models.anomaly.forest import GroupForest
from models.anomaly.groups import GroupRows, group_features, group_row, group_score
from models.anomaly.scoring import _exceedance_score, _refractory, _shares
from models.anomaly.state import restore_series, save_series
from models.anomaly.transform import apply, choose, invert
from models.anomaly.windows import _DAY, _MIN_WINDOW, FEATURES, _Series, exceedances
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
_STATE_FORMAT = 3  # 3: only the features that cannot be recomputed, float32
_READ_FORMATS = (2, 3)  # 2: six features in one float64 ring per series (read, converted)


class AnomalyDetector(Detector, Estimator):
    """Scores every sample of every metric, and every interval of every multi-metric group.

    Parameters (all global: the defaults are meant for every metric, see the module docstring):
    ``window`` samples of history per feature; ``extreme_rank``: the reference extreme is the
    k-th most extreme value of the window; ``margin``: how far past it (in units of its distance
    from the median) scores 0.5; ``warmup`` samples before a series has scores; ``refractory``
    samples after a detection during which the series does not fire again; ``level_span``
    samples in the short-term level; ``drift_span``: the slow level's time constant (samples,
    an exponential average); ``spread_span`` samples whose range is the spread (only its low side
    counts: stuck at one value; 0 turns it off); ``skew``: how heavy a non-negative metric's upper
    tail must be for the log scale (``models.anomaly.transform``; 0: every metric raw);
    ``season_buckets`` per day in the time-of-day profile,
    learnt at ``season_rate``; ``floor``: the smallest scale, as a fraction of the value
    window's range (quantised or flat metrics); ``threshold``: the default alert threshold.
    Group forests: ``group_model`` (a ``GroupForest`` template), refitted every
    ``retrain_every`` seconds from the last ``group_rows`` rows once a group has
    ``min_group_rows``.
    """

    def __init__(
        self,
        window: int = 2000,
        extreme_rank: int = 6,
        margin: float = 0.3,
        warmup: int = 300,
        refractory: int = 30,
        level_span: int = 6,
        drift_span: int = 0,
        spread_span: int = 12,
        skew: float = 1.0,
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
        self.drift_span = drift_span
        self.spread_span = spread_span
        self.skew = skew
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
        self.group_history_: dict[str, tuple[tuple[str, ...], GroupRows]] = {}
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
        s.n += 1
        if s.warm is not None:  # warming up: keep the raw sample, learn at the end
            s.warm.append(at)
            s.warm.append(x)
            if len(s.warm) >= 2 * self.warmup:
                self._start(s)
            return None
        row, bucket = self._features(s, at, x)
        checked = s.windows.filled >= _MIN_WINDOW  # exceedances moves the extremes
        excess = exceedances(s, row, self.floor)
        base = s.profile[bucket]
        self._learn(s, row, bucket, checked)
        limit = self.threshold if threshold is None else threshold
        best = max(max(excess), -min(excess))
        score = best / (best + 1.0 + self.margin) if best > 0.0 else 0.0  # _exceedance_score
        if score >= limit:  # _refractory, inlined: this runs for every sample
            if s.n - s.last_detection <= self.refractory:
                score = 0.99 * limit
            else:
                s.last_detection = s.n
                return self._detection(key, s, (at, x, score, limit), excess, base)
        w = s.windows
        low, high = w.low[0][-1], w.high[0][-1]
        if s.transform:
            low, high = invert(s.transform, s.scale, low), invert(s.transform, s.scale, high)
        return AnomalyScore(
            metric=key, at=at, value=x, score=score, threshold=limit, usual_low=low, usual_high=high
        )

    def _features(self, s: _Series, at: float, x: float) -> tuple[tuple[float, ...], int]:
        """The sample's features on the series' scale, and its time-of-day bucket; updates
        the short memories (level, recent values, slow level) that include the sample."""
        y = apply(s.transform, s.scale, x) if s.transform else x
        first = not s.recent
        jump = 0.0 if first else abs(y - s.prev)
        s.drift = y if first else s.drift + (y - s.drift) / (self.drift_span or 1)
        bucket = min(int((at % _DAY) * self.season_buckets / _DAY), self.season_buckets - 1)
        base = s.profile[bucket]
        seasonal = y - base if base == base else y - s.drift  # NaN: bucket not seen yet
        level, v = s.level, y
        if len(level) == level.maxlen:
            s.level_sum -= level[0]
        level.append(v)
        s.level_sum += v
        recent = s.recent
        recent.append(y)
        spread = max(recent) - min(recent)
        drift = s.drift if self.drift_span else 0.0
        return (y, jump, s.level_sum / len(level), seasonal, drift, spread), bucket

    def _learn(
        self, s: _Series, row: tuple[float, ...], bucket: int, checked: bool = False
    ) -> None:
        """Add the sample's features to the windows and its value to the profile."""
        y = row[0]
        # a full spread window: every feature is whole, the row takes part in the windows
        s.windows.add(row, len(s.recent) == s.recent.maxlen, checked)
        base = s.profile[bucket]
        if base != base:  # NaN: the bucket's first value
            s.profile[bucket] = y
        else:  # an anomaly moves the profile no further than the usual residuals do
            w, r = s.windows, y - base
            if w.filled >= w.need[3]:
                low, high = w.low[3][-1], w.high[3][-1]
                r = low if r < low else high if r > high else r
            s.profile[bucket] = base + self.season_rate * r
        s.prev = y

    def _start(self, s: _Series) -> None:
        """Warm-up is over: choose the series' transform and learn its warm-up samples."""
        warm, s.warm = s.warm or array("d"), None
        s.transform, s.scale = choose(warm[1::2], self.skew)
        for at, x in zip(warm[::2], warm[1::2], strict=True):
            row, bucket = self._features(s, at, x)
            self._learn(s, row, bucket)

    def _detection(
        self,
        key: str,
        s: _Series,
        sample: tuple[float, float, float, float],
        excess: tuple[float, ...],
        base: float,
    ) -> AnomalyScore:
        """A detection, with what the operator needs to check it: the usual band for this
        time of day (or the recent one) in the metric's unit, and the features behind it."""
        at, x, score, limit = sample
        w = s.windows
        if base == base:
            low, high, basis = base + w.low[3][-1], base + w.high[3][-1], "time of day"
        else:
            low, high, basis = w.low[0][-1], w.high[0][-1], "recent"
        names = [
            "stuck" if name == "spread" and e < 0.0 else name
            for name, e in zip(FEATURES, excess, strict=True)
        ]
        return AnomalyScore(
            metric=key,
            at=at,
            value=x,
            score=score,
            threshold=limit,
            usual_low=invert(s.transform, s.scale, low),
            usual_high=invert(s.transform, s.scale, high),
            contributions=_shares(zip(names, map(abs, excess), strict=True)),
            basis=basis,
        )

    def _new_series(self, key: str) -> _Series:
        s = self.series_[key] = _Series(
            key,
            self.window,
            self.extreme_rank,
            self.season_buckets,
            (self.level_span, self.drift_span, self.spread_span),
        )
        self.members_.setdefault(s.group, []).append(key)
        self.members_[s.group].sort()
        return s

    def forget(self, keep: Callable[[str], bool]) -> list[str]:
        """Drop every series whose key ``keep`` refuses (a metric no longer scored, a check
        no longer configured), with the rows of groups that no longer have two metrics;
        returns the keys dropped. A group that lost a metric starts a new history."""
        dropped = sorted(key for key in self.series_ if not keep(key))
        for key in dropped:
            group = self.series_.pop(key).group
            members = self.members_[group]
            members.remove(key)
            if len(members) < 2:
                self.group_history_.pop(group, None)
                self.group_models_.pop(group, None)
                self.bank_ = None
            if not members:
                del self.members_[group]
        return dropped

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
                self.group_history_[group][1].count,
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
                rows_of = GroupRows(self.group_rows, len(features))
                history = self.group_history_[group] = (features, rows_of)
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
            group: (names, rows.array())
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
        series = [
            save_series(f"s{i}", key, s, arrays) for i, (key, s) in enumerate(self._sorted_series())
        ]
        groups = []
        for i, (group, (names, rows)) in enumerate(sorted(self.group_history_.items())):
            last = self.group_detection_.get(group)
            groups.append({"group": group, "names": list(names), "last": last, "count": rows.count})
            arrays[f"g{i}.rows"] = rows.array().astype(np.float32).reshape(len(rows), len(names))
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

    def _sorted_series(self) -> list[tuple[str, _Series]]:
        return sorted(self.series_.items())

    def load_state_dict(self, arrays: Arrays, meta: Mapping[str, Any]) -> None:
        """Replace everything learned with a saved state; ``StateMismatch`` if it does not fit."""
        for field, expected in self._layout().items():
            found = meta.get(field)
            if found != expected and not (field == "format" and found in _READ_FORMATS):
                raise StateMismatch(field, expected, found)
        if meta["format"] != _STATE_FORMAT:
            log.info(
                "anomaly state of format %s read and converted to format %s (%d series kept)",
                meta["format"],
                _STATE_FORMAT,
                len(meta["series"]),
            )
        self._reset()
        for i, item in enumerate(meta["series"]):
            restore_series(f"s{i}", self._new_series(item["key"]), item, arrays)
        for i, item in enumerate(meta["groups"]):
            saved = arrays[f"g{i}.rows"]  # format 2 has no count: the rows kept were all
            rows = GroupRows.restore(self.group_rows, saved, item.get("count", len(saved)))
            self.group_history_[item["group"]] = (tuple(item["names"]), rows)
            if item["last"] is not None:
                self.group_detection_[item["group"]] = item["last"]
        for i, item in enumerate(meta["models"]):
            model_arrays = {k: arrays[f"m{i}.{k}"] for k in GroupForest._ARRAYS}
            self.group_models_[item["group"]] = GroupForest.from_state(model_arrays, item)
        self.last_fit_ = meta["last_fit"]

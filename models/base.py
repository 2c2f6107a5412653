"""The predictor contract: what a detector is handed, what it returns, and how it is driven.

A predictor is one class per module in this package. It never imports ``bot``: the engine
hands it plain values (a series key, a timestamp, a number) and gets immutable records back.

How the engine drives an anomaly detector (``models.anomaly.AnomalyDetector``)
------------------------------------------------------------------------------
Every interval, on the event loop, after the interval's observations are stored, one call::

    results = models.anomaly.score_interval(detector, at, samples, thresholds)
    # samples: [("check|subject|metric", value), ...] observed at ``at`` (epoch seconds)
    # thresholds: {series or group key: per-check override}; absent keys use DEFAULT_THRESHOLD
    for result in results:
        if result.detected:
            ...      # open/update a warning incident (kind anomaly) naming result.metric

``score_interval`` calls ``detector.score(key, at, value, threshold)`` for each sample (the
streaming stage: pure Python, about 6 us a sample; ``None`` while a series warms up or for a
NaN/inf value, never an exception for odd input), then ``detector.score_groups(at)`` (the
multivariate view, one result per "check|subject" with two metrics or more and a fitted
forest; all groups in one vectorised pass; a model that raises is logged and dropped: no
model means "no prediction"). The NAB bench calls the same function.

On a schedule (an APScheduler job, e.g. every 10 minutes; the detector itself waits
``retrain_every`` between fits)::

    if detector.fit_due(now):
        snapshot = detector.snapshot(now)                                   # on the loop, cheap
        states = await loop.run_in_executor(pool, fit_group_states, snapshot, template_params)
        detector.install(group_models_from_states(states))                  # on the loop, a swap

``pool`` is a one-process ``ProcessPoolExecutor`` (``spawn``) made for the retrain and shut
down after it: fitting needs scikit-learn, which costs about 90 MB of RSS once imported, so
only the short-lived worker process imports it (lazily, inside the fitting functions); the
monitor scores with the compiled numpy arrays and never imports scikit-learn or SciPy.
``fit_group_states`` is a pure function of the snapshot: it neither reads nor mutates the
detector, so the loop keeps scoring with the old models while the worker fits new ones; it
returns plain arrays and dicts (``GroupForest.to_state``), which pickle without any
scikit-learn object. If it raises, keep the old models and log; the next ``fit_due`` after
``retrain_every`` tries again.

Persistence (at shutdown and after each ``install``; the key from
``models.persistence.load_or_create_key(data_dir / "model.key")``)::

    arrays, meta = detector.state_dict()
    models.persistence.save(path, arrays, meta, key=key, feature_names=models.anomaly.FEATURES)
    ...
    arrays, meta = models.persistence.load(path, key=key, feature_names=models.anomaly.FEATURES)
    detector.load_state_dict(arrays, meta)

``load`` raises ``UntrustedState`` (not written with this key, or changed since) and
``StateMismatch`` (another scikit-learn/numpy version or feature set); ``load_state_dict``
raises ``StateMismatch`` for other detector parameters. On any of them, log and start cold.

``DEFAULT_THRESHOLD`` (0.5 on the output score) ships with selfreg and is meant to work on
every metric without tuning; a check may override it with its own ``threshold``.
"""

from __future__ import annotations

import copy
import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import numpy as np

DEFAULT_THRESHOLD = 0.5
"""A score at or above this is an anomaly. The score is calibrated so that 0.5 means "further
from the usual median than the recent extremes, by a margin" on any metric."""

Arrays = Mapping[str, np.ndarray]
"""Named numeric arrays: the part of a saved state that is data (no objects, no pickles)."""


E = TypeVar("E", bound="Estimator")


class Estimator:
    """The part of scikit-learn's ``BaseEstimator`` the predictors use, without importing it.

    scikit-learn costs about 90 MB of RSS once imported, and selfreg only needs it to fit (in
    a worker process): the estimators here keep its contract (parameters are exactly the
    ``__init__`` arguments, stored under their own names; ``fit`` returns ``self``; what is
    learnt ends in ``_``) and its ``get_params`` / ``set_params`` / ``clone``, which saved
    states use to check that they were written with the same parameters.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        signature = inspect.signature(cls.__init__)
        params = signature.parameters.values()
        return sorted(p.name for p in params if p.name != "self" and p.kind not in skip)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The ``__init__`` arguments by name; with ``deep``, those of nested estimators too
        (as ``name__param``), like scikit-learn's."""
        params = {name: getattr(self, name) for name in self._param_names()}
        if deep:
            for name, value in list(params.items()):
                if isinstance(value, Estimator):
                    params.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return params

    def set_params(self: E, **params: Any) -> E:
        """Set parameters by name (no nested names); an unknown name raises ``ValueError``."""
        names = self._param_names()
        for name, value in params.items():
            if name not in names:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"


def clone(estimator: E) -> E:
    """A new, unfitted estimator with the same parameters (nested estimators cloned too)."""
    params = {
        name: clone(value) if isinstance(value, Estimator) else copy.deepcopy(value)
        for name, value in estimator.get_params(deep=False).items()
    }
    return type(estimator)(**params)


class ModelError(Exception):
    """Root of the errors this package raises on purpose."""


class StateMismatch(ModelError, ValueError):
    """A saved state does not fit this code: another layout, feature set or library version."""

    def __init__(self, what: str, expected: object, found: object) -> None:
        self.what, self.expected, self.found = what, expected, found
        super().__init__(f"saved model state has {what} {found!r}, expected {expected!r}")


class AnomalyScore(NamedTuple):
    """How unusual one sample (or one group's interval) was.

    ``score`` is in [0, 1]; ``detected`` is ``score >= threshold``, and is true only on the first
    sample of an episode (later samples of the same episode are held under the threshold for a
    refractory period, so one episode is one detection). ``usual_low`` / ``usual_high`` bound
    what this series usually does (the recent extremes it is compared with). For a group
    ("check|subject"), ``value`` is its exceedance and the usual range is that of its forest's
    score. ``contributions`` name the features (for a group: the metrics) behind a detection,
    weights summing to 1, largest first; empty when the score is under the threshold.
    ``basis`` says what the usual range is: ``"recent"`` (the recent extremes) or, on a
    detection of a series that knows this time of day, ``"time of day"`` (the usual band at
    this time of day, in the metric's own unit).

    A ``NamedTuple``, not the house's frozen dataclass: one is built for every sample of every
    metric, and a frozen dataclass costs three times as much to build (3 us of a 20 us
    budget). It is just as immutable and typed; build it with keywords.
    """

    metric: str
    at: float
    value: float
    score: float
    threshold: float
    usual_low: float
    usual_high: float
    contributions: tuple[tuple[str, float], ...] = ()
    basis: str = "recent"

    @property
    def detected(self) -> bool:
        """True when this sample starts an anomaly episode."""
        return self.score >= self.threshold


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainingSnapshot:
    """A copy of the history a retrain needs, taken on the loop and handed to a worker.

    ``groups`` maps a group key ("check|subject") to its metric names (the feature names) and a
    2-D array of rows (one row per interval, one column per metric), oldest first.
    """

    taken_at: float
    groups: Mapping[str, tuple[tuple[str, ...], np.ndarray]]


class Detector(ABC):
    """Base class of anomaly detectors: the one required method is ``score``.

    Parameters live in ``__init__`` only (the scikit-learn convention); everything learned ends
    in ``_``. Subclasses that learn batch models override ``fit_due``/``snapshot``/``install``.
    """

    @abstractmethod
    def score(
        self, key: str, at: float, value: float, threshold: float | None = None
    ) -> AnomalyScore | None:
        """Score one new sample of series ``key`` from it and the series' past, then learn it.

        Returns ``None`` during warm-up and for a non-finite value. Never raises for bad data.
        ``threshold`` overrides ``DEFAULT_THRESHOLD`` for this series.
        """

    def score_groups(self, at: float, threshold: float | None = None) -> list[AnomalyScore]:
        """Score the multivariate views updated since the last call; none by default."""
        return []

    def fit_due(self, now: float) -> bool:
        """True when a retrain in a worker is worth running now; never by default."""
        return False

    def snapshot(self, now: float) -> TrainingSnapshot:
        """The history a retrain needs (cheap; runs on the loop)."""
        return TrainingSnapshot(taken_at=now, groups={})

    def install(self, fitted: Mapping[str, Any]) -> None:
        """Swap in models fitted by a worker from a ``snapshot``; nothing to do by default."""
        return None

    @abstractmethod
    def state_dict(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Everything learned, as named arrays plus JSON-able metadata (for ``persistence``)."""

    @abstractmethod
    def load_state_dict(self, arrays: Arrays, meta: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned; raises ``StateMismatch`` when it does not fit."""

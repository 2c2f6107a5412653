"""The predictors' side work: their saved state, and the history they are fitted on.

Model state lives in ``<data>/models/``: one signed file per model, written by
``models.persistence`` with an installation key (``model.key``, mode 0600) so a file selfreg
did not write, or one changed since, is refused; so is one from another scikit-learn
version or feature set. A refused file is logged and the model starts cold.

``risk_datasets`` and ``fit_risk_models`` read the store through their own read-only
connection: they run in a worker process (``predict_fit``), never on the event loop.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot import messages
from bot.store import open_store
from models import anomaly, forecast, persistence
from models.failure import FailureRisk, Sample, build_dataset, feature_names

log = logging.getLogger(__name__)

KEY_FILE = "model.key"


def risk_metric(subject: str, metric: str) -> str:
    """A check's metric as a failure-risk feature: subjects kept apart (``/data:disk_percent``)."""
    return f"{subject}:{metric}" if subject else metric


class ModelFiles:
    """Where each model's state is saved, signed with this installation's key."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._key: bytes | None = None
        self.refused: list[str] = []

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = persistence.load_or_create_key(self.folder / KEY_FILE)
        return self._key

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.state"

    def save(self, name: str, model: Any, names: Sequence[str]) -> None:
        arrays, meta = model.state_dict()
        persistence.save(self.path(name), arrays, meta, key=self.key, feature_names=names)

    def restore(self, name: str, model: Any, names: Sequence[str]) -> bool:
        """Load ``name`` into ``model``; False (logged, model untouched) when absent or refused."""
        path = self.path(name)
        if not path.exists():
            return False
        try:
            arrays, meta = persistence.load(path, key=self.key, feature_names=names)
            model.load_state_dict(arrays, meta)
        except Exception as exc:  # untrusted, mismatched or unreadable: that model starts cold
            log.warning(messages.model_refused(str(path), str(exc)))
            self.refused.append(name)
            return False
        return True

    def risk_names(self) -> list[str]:
        """Checks with a saved failure-risk model."""
        return sorted(
            p.name[len("risk-") : -len(".state")] for p in self.folder.glob("risk-*.state")
        )


def save_all(
    files: ModelFiles,
    detector: anomaly.AnomalyDetector | None,
    forecaster: forecast.Forecaster | None,
    risks: Mapping[str, FailureRisk],
) -> None:
    if detector is not None:
        files.save("anomaly", detector, anomaly.FEATURES)
    if forecaster is not None:
        files.save("forecast", forecaster, forecast.FEATURES)
    for check, model in risks.items():
        files.save(f"risk-{check}", model, list(getattr(model, "feature_names_", ())))


def check_samples(store: Any, check: str, since: float = 0.0) -> list[Sample]:
    """A check's stored samples as failure-risk rows: one per time, oldest first."""
    rows: list[Sample] = []
    last_at, values = math.nan, {}
    for subject, metric, at, value in store._conn.execute(
        "SELECT s.subject, s.metric, m.at, m.value FROM samples m JOIN series s ON m.series = s.id "
        'WHERE s."check" = ? AND m.at >= ? ORDER BY m.at',
        (check, since),
    ):
        if at != last_at:
            values = {}
            rows.append((at, values))
            last_at = at
        values[risk_metric(subject, metric)] = value
    return rows


def rule_incidents(store: Any, check: str) -> list[tuple[float, float | None]]:
    """(opened, resolved) of the check's rule incidents: the labels. Predictions never count."""
    return [
        (r[0], r[1])
        for r in store._conn.execute(
            "SELECT opened_at, resolved_at FROM incidents WHERE \"check\" = ? AND kind = 'rule'",
            (check,),
        )
    ]


def fit_risk_models(
    db_path: Path, checks: Iterable[str], horizon: float, threshold: float
) -> dict[str, FailureRisk]:
    """One failure-risk model per check, fitted on the store's history (a worker process's
    job: fitting imports scikit-learn)."""
    store = open_store(db_path, readonly=True)
    try:
        fitted = {}
        for check in checks:
            samples = check_samples(store, check)
            data = build_dataset(samples, rule_incidents(store, check), horizon=horizon)
            model = FailureRisk(horizon=horizon, threshold=threshold)
            fitted[check] = model.fit(data.X, data.y, data.feature_names, times=data.times)
        return fitted
    finally:
        store.close()


def stored_risk_names(store: Any, check: str) -> tuple[str, ...]:
    """The feature names a check's risk model is fitted with, from the metrics stored."""
    metrics = [
        risk_metric(r[0], r[1])
        for r in store._conn.execute(
            'SELECT subject, metric FROM series WHERE "check" = ?', (check,)
        )
    ]
    return feature_names(metrics)


def stored_intervals(store: Any, since: float) -> Iterable[tuple[float, list[tuple[str, float]]]]:
    """Every stored sample since ``since`` grouped by time, as ``score_interval`` takes them:
    how ``selfreg models train`` replays history into a cold detector."""
    last_at, batch = math.nan, []
    for check, subject, metric, at, value in store._conn.execute(
        'SELECT s."check", s.subject, s.metric, m.at, m.value FROM samples m '
        "JOIN series s ON m.series = s.id WHERE m.at >= ? ORDER BY m.at",
        (since,),
    ):
        if at != last_at and batch:
            yield last_at, batch
            batch = []
        last_at = at
        batch.append((f"{check}|{subject}|{metric}", value))
    if batch:
        yield last_at, batch


def warm_from_store(
    store: Any,
    detector: anomaly.AnomalyDetector | None,
    forecaster: forecast.Forecaster | None,
    forecast_keys: Callable[[str], bool] = lambda _key: True,
) -> int:
    """Feed the stored samples to the models that are cold (``selfreg models train`` with no
    instance running); opens no incident. Returns the number of intervals replayed.
    ``forecast_keys`` says which series are forecast (those with a threshold)."""
    if detector is not None and detector.series_:
        detector = None
    if forecaster is not None and forecaster.series_:
        forecaster = None
    if detector is None and forecaster is None:
        return 0
    count = 0
    for at, batch in stored_intervals(store, 0.0):
        if detector is not None:
            anomaly.score_interval(detector, at, batch)
        if forecaster is not None:
            for key, value in batch:
                if forecast_keys(key):
                    forecaster.observe(key, at, value)
        count += 1
    return count

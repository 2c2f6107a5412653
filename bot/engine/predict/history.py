"""The history the predictors learn from: stored samples and rule incidents, as models take them.

``fit_risk_models`` reads the store through its own read-only connection: it runs in the fit
worker process (``fit``), never on the event loop. ``warm_from_store`` replays the stored
samples into cold models (``selfreg models train`` with no instance running).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from bot.store import incidents, open_store, samples
from bot.store.db import Store
from models import anomaly, forecast
from models.failure import FailureRisk, Sample, build_dataset, feature_names

NOT_ANOMALY_SCORED = frozenset(
    {"status_code", "probe_status", "exit_status", "uptime", "cert_days", "restarts"}
)
"""Metrics the anomaly detector leaves alone (forecasts and failure risk still see them).
Codes (an HTTP status, a probe's status, an exit status) are categories, not quantities,
and every change of one is the check's own status already; clocks (uptime, days to a
certificate's expiry) only move one way, and their reset is a restart or a renewal; restarts
are events the check itself warns about. Scored, each cost ~25 KB of memory and ~6 us a
sample to find nothing the check does not say, or to call a renewal an anomaly."""


def anomaly_scored(key: str) -> bool:
    """Whether the series ``check|subject|metric`` goes through the anomaly detector."""
    return key.rpartition("|")[2] not in NOT_ANOMALY_SCORED


def risk_metric(subject: str, metric: str) -> str:
    """A check's metric as a failure-risk feature: subjects kept apart (``/data:disk_percent``)."""
    return f"{subject}:{metric}" if subject else metric


def check_samples(store: Store, check: str, since: float = 0.0) -> list[Sample]:
    """A check's stored samples as failure-risk rows: one per time, oldest first."""
    rows: list[Sample] = []
    last_at, values = math.nan, {}
    for subject, metric, at, value in samples.check_samples(store, check, since):
        if at != last_at:
            values = {}
            rows.append((at, values))
            last_at = at
        values[risk_metric(subject, metric)] = value
    return rows


def fit_risk_models(
    db_path: Path, checks: Iterable[str], horizon: float, threshold: float
) -> dict[str, FailureRisk]:
    """One failure-risk model per check, fitted on the store's history (a worker process's
    job: fitting imports scikit-learn). A check's rule incidents are its labels."""
    store = open_store(db_path, readonly=True)
    try:
        fitted = {}
        for check in checks:
            history = check_samples(store, check)
            failures = incidents.rule_incident_spans(store, check)
            data = build_dataset(history, failures, horizon=horizon)
            model = FailureRisk(horizon=horizon, threshold=threshold)
            fitted[check] = model.fit(data.X, data.y, data.feature_names, times=data.times)
        return fitted
    finally:
        store.close()


def stored_risk_names(store: Store, check: str) -> tuple[str, ...]:
    """The feature names a check's risk model is fitted with, from the metrics stored."""
    series = samples.check_series(store, check)
    return feature_names([risk_metric(subject, metric) for subject, metric in series])


def stored_intervals(store: Store, since: float) -> Iterator[tuple[float, list[tuple[str, float]]]]:
    """Every stored sample since ``since`` grouped by time, as ``score_interval`` takes them:
    how ``selfreg models train`` replays history into a cold detector."""
    last_at, batch = math.nan, []
    for check, subject, metric, at, value in samples.samples_since(store, since):
        if at != last_at and batch:
            yield last_at, batch
            batch = []
        last_at = at
        batch.append((f"{check}|{subject}|{metric}", value))
    if batch:
        yield last_at, batch


def warm_from_store(
    store: Store,
    detector: anomaly.AnomalyDetector | None,
    forecaster: forecast.Forecaster | None,
    forecast_keys: Callable[[str], bool] = lambda _key: True,
    anomaly_keys: Callable[[str], bool] = anomaly_scored,
) -> int:
    """Feed the stored samples to the models that are cold (``selfreg models train`` with no
    instance running); opens no incident. Returns the number of intervals replayed.
    ``forecast_keys`` says which series are forecast (those with a threshold),
    ``anomaly_keys`` which are scored for anomalies."""
    if detector is not None and detector.series_:
        detector = None
    if forecaster is not None and forecaster.series_:
        forecaster = None
    if detector is None and forecaster is None:
        return 0
    count = 0
    for at, batch in stored_intervals(store, 0.0):
        if detector is not None:
            anomaly.score_interval(detector, at, [s for s in batch if anomaly_keys(s[0])])
        if forecaster is not None:
            for key, value in batch:
                if forecast_keys(key):
                    forecaster.observe(key, at, value)
        count += 1
    return count

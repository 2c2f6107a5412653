"""What the predictors know, as plain data: ``/selfreg predict`` and ``selfreg models status``.

The report reads the predictor through ``PredictorView`` (the attributes it shows), so this
module never imports the predictor that calls it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot import messages
from bot.config import ModelsSettings
from bot.engine.predict.feedback import Thresholds, precision
from bot.engine.predict.track import TrackRecord, track_record
from bot.records import IncidentKind
from bot.store import events, predictions
from bot.store import incidents as rows
from bot.store.db import Store
from checks.base import CheckSpec
from models.anomaly import AnomalyDetector
from models.failure import FailureRisk, RiskState
from models.forecast import Forecaster


class PredictorView(Protocol):
    """What a report reads of a ``Predictor``."""

    settings: ModelsSettings
    specs: dict[str, CheckSpec]
    store: Store
    detector: AnomalyDetector | None
    forecaster: Forecaster | None
    risks: dict[str, FailureRisk]
    failed: set[str]
    thresholds: Thresholds
    forecasts: dict[str, str]
    risk_scores: dict[str, float]
    last_fit: dict[str, float]


def prediction_report(predictor: PredictorView, check: str | None = None) -> dict[str, Any]:
    """Open anomalies, each check's failure risk (or how far its learning is), forecasts."""
    settings = predictor.settings
    anomalies = [
        {"what": messages.subject_label(i.check, i.subject), "summary": i.summary, "id": i.id}
        for i in rows.open_incidents(predictor.store)
        if i.kind == "anomaly" and check in (None, i.check)
    ]
    risks = (
        _risk_rows(predictor, check)
        if settings.failure_risk and "risk" not in predictor.failed
        else []
    )
    forecasts = [
        {"key": key, "summary": text}
        for key, text in sorted(predictor.forecasts.items())
        if check in (None, key.partition("|")[0])
    ]
    off = [
        kind
        for kind, on in (
            ("anomaly", settings.anomaly),
            ("failure risk", settings.failure_risk),
            ("forecast", settings.forecast),
        )
        if not on
    ]
    off += [messages.model_failed_this_run(kind) for kind in sorted(predictor.failed)]
    judged = predictions.feedback_counts(predictor.store).get("risk", {})
    return {
        "anomalies": anomalies,
        "risks": risks,
        "risk_precision": precision(judged),
        "risk_judged": sum(judged.values()),
        "forecasts": forecasts,
        "off": off,
    }


def _risk_rows(predictor: PredictorView, check: str | None) -> list[dict[str, Any]]:
    """Each watched check's risk (or how far its learning is) and its track record."""
    out = []
    for name in sorted(predictor.specs):
        if check not in (None, name):
            continue
        model = predictor.risks.get(name)
        status = model.status() if model is not None else None
        state = status.state if status is not None else RiskState.LEARNING
        out.append(
            {
                "check": name,
                "state": state.value,
                "samples": status.n_samples if status else 0,
                "failures": status.n_failures if status else 0,
                "risk": predictor.risk_scores.get(name) if state is RiskState.READY else None,
                "threshold": predictor.thresholds.risk_for(name),
                **_track_facts(risk_track(predictor, name)),
            }
        )
    return out


RETRAINED_EVENT = "models.retrained"
"""Recorded by the predictor at each fit, the model ("anomaly", "risk") as its subject."""


def risk_track(predictor: PredictorView, check: str) -> TrackRecord:
    """The check's failures since the risk model's first fit, and how many were warned of."""
    since = events.first_event_times(predictor.store, RETRAINED_EVENT).get("risk")
    return track_record(
        rows.incident_spans(predictor.store, check, IncidentKind.RULE),
        rows.incident_spans(predictor.store, check, IncidentKind.RISK),
        predictor.settings.horizon,
        since,
    )


def _track_facts(track: TrackRecord) -> dict[str, Any]:
    return {
        "failures_seen": track.failures,
        "predicted": track.predicted,
        "recall": track.recall,
        "median_lead": track.median_lead,
    }


def model_rows(predictor: PredictorView) -> list[dict[str, Any]]:
    """Per model: on?, trained?, samples, last fit, precision and feedback counts."""
    counts = predictions.feedback_counts(predictor.store)
    return [
        _model_row(predictor, counts.get(model), model, *facts)
        for model, *facts in (
            ("anomaly", *_anomaly_facts(predictor)),
            ("risk", *_risk_facts(predictor)),
            ("forecast", *_forecast_facts(predictor)),
        )
    ]


def _model_row(
    predictor: PredictorView,
    judged: Mapping[str, int] | None,
    model: str,
    enabled: bool,
    trained: bool,
    samples: int,
    note: str,
) -> dict[str, Any]:
    judged = judged or {}
    return {
        "model": model,
        "enabled": enabled and model not in predictor.failed,
        "trained": trained,
        "samples": samples,
        "last_fit": predictor.last_fit.get(model),
        "precision": precision(judged),
        "useful": judged.get(predictions.USEFUL, 0),
        "false_alarms": judged.get(predictions.FALSE_ALARM, 0),
        "note": note,
    }


def _anomaly_facts(predictor: PredictorView) -> tuple[bool, bool, int, str]:
    """(enabled, trained, samples, note) of the anomaly detector."""
    detector = predictor.detector
    if detector is None:
        return False, False, 0, ""
    series = detector.series_
    return (
        True,
        any(s.n > predictor.settings.warmup for s in series.values()),
        sum(s.n for s in series.values()),
        messages.anomaly_note(len(series), len(detector.group_models_)),
    )


def _risk_facts(predictor: PredictorView) -> tuple[bool, bool, int, str]:
    """(enabled, trained, samples, note) of the failure-risk models, one per check."""
    statuses = {name: model.status() for name, model in predictor.risks.items()}
    ready = sorted(n for n, s in statuses.items() if s.state is RiskState.READY)
    learning = [
        messages.risk_learning(n, s.n_samples, s.n_failures)
        for n, s in sorted(statuses.items())
        if s.state is not RiskState.READY
    ]
    tracks = [risk_track(predictor, name) for name in sorted(predictor.risks)]
    failures, predicted = sum(t.failures for t in tracks), sum(t.predicted for t in tracks)
    leads = [lead for t in tracks for lead in t.leads]
    track = TrackRecord(failures=failures, predicted=predicted, leads=tuple(leads))
    notes = ([messages.risk_ready(ready)] if ready else []) + learning[:5]
    if predictor.risks:
        notes.append(messages.risk_track(track.predicted, track.failures, track.median_lead))
    return (
        predictor.settings.failure_risk,
        bool(ready),
        sum(s.n_samples for s in statuses.values()),
        "; ".join(notes),
    )


def _forecast_facts(predictor: PredictorView) -> tuple[bool, bool, int, str]:
    """(enabled, trained, samples, note) of the forecaster."""
    forecaster = predictor.forecaster
    if forecaster is None:
        return False, False, 0, ""
    points = forecaster.series_
    return (
        True,
        any(len(p) >= forecaster.min_points for p in points.values()),
        sum(len(p) for p in points.values()),
        messages.forecast_note(len(points)),
    )

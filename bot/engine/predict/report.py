"""What the predictors know, as plain data: ``/selfreg predict`` and ``selfreg models status``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import messages
from bot.engine.predict.feedback import precision
from bot.store import incidents as rows
from bot.store import predictions
from models.failure import RiskState

if TYPE_CHECKING:
    from bot.engine.predict import Predictor


def prediction_report(predictor: Predictor, check: str | None = None) -> dict[str, Any]:
    """Open anomalies, each check's failure risk (or how far its learning is), forecasts."""
    settings = predictor.settings
    anomalies = [
        {"what": messages.subject_label(i.check, i.subject), "summary": i.summary, "id": i.id}
        for i in rows.open_incidents(predictor.store)
        if i.kind == "anomaly" and check in (None, i.check)
    ]
    risks = []
    if settings.failure_risk and "risk" not in predictor.failed:
        for name in sorted(predictor.specs):
            if check not in (None, name):
                continue
            model = predictor.risks.get(name)
            status = model.status() if model is not None else None
            state = status.state if status is not None else RiskState.LEARNING
            risks.append(
                {
                    "check": name,
                    "state": state.value,
                    "samples": status.n_samples if status else 0,
                    "failures": status.n_failures if status else 0,
                    "risk": predictor.risk_scores.get(name) if state is RiskState.READY else None,
                    "threshold": predictor.thresholds.risk_for(name),
                }
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
    off += [f"{kind} (failed this run)" for kind in sorted(predictor.failed)]
    return {"anomalies": anomalies, "risks": risks, "forecasts": forecasts, "off": off}


def model_rows(predictor: Predictor) -> list[dict[str, Any]]:
    """Per model: on?, trained?, samples, last fit, precision and feedback counts."""
    counts = predictions.feedback_counts(predictor.store)
    detector, forecaster, settings = predictor.detector, predictor.forecaster, predictor.settings
    out = []

    def row(model: str, enabled: bool, trained: bool, samples: int, note: str) -> None:
        judged = counts.get(model, {})
        out.append(
            {
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
        )

    series = detector.series_ if detector is not None else {}
    forests = len(detector.group_models_) if detector is not None else 0
    row(
        "anomaly",
        detector is not None,
        any(s.n > settings.warmup for s in series.values()),
        sum(s.n for s in series.values()),
        f"{len(series)} metrics, {forests} group forests" if detector is not None else "",
    )
    risks = predictor.risks
    statuses = {name: model.status() for name, model in risks.items()}
    ready = sorted(n for n, s in statuses.items() if s.state is RiskState.READY)
    learning = [
        f"{n} (learning: {s.n_samples} samples, {s.n_failures} failures)"
        for n, s in sorted(statuses.items())
        if s.state is not RiskState.READY
    ]
    row(
        "risk",
        settings.failure_risk,
        bool(ready),
        sum(s.n_samples for s in statuses.values()),
        "; ".join(([f"ready: {', '.join(ready)}"] if ready else []) + learning[:5]),
    )
    points = forecaster.series_ if forecaster is not None else {}
    row(
        "forecast",
        forecaster is not None,
        any(len(p) >= forecaster.min_points for p in points.values()) if forecaster else False,
        sum(len(p) for p in points.values()),
        f"{len(points)} series" if forecaster is not None else "",
    )
    return out

"""What people say about predictions, and what it changes.

Prediction incidents carry "Useful" and "False alarm" buttons. Each click is stored (one
verdict per person and incident) and recorded as an event; per-model precision is
useful / (useful + false alarm). When one metric collects ``false_alarms`` false alarms
since its threshold last moved, its own threshold rises (anomaly and risk: halfway to 1;
forecast: the horizon halves), is stored, and the incident's thread says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot import messages
from bot.clock import Clock
from bot.config import ModelsSettings
from bot.engine.alerting import Alerting
from bot.errors import NotAPrediction
from bot.records import PREDICTED
from bot.store import incidents as rows
from bot.store import predictions
from bot.store.db import Store
from checks.base import CheckSpec

FEEDBACK_EVENT = "prediction.feedback"
THRESHOLD_EVENT = "prediction.threshold_raised"


def target_of(fingerprint: str) -> str:
    """What a prediction incident's threshold belongs to: ``check|subject|metric`` (anomaly,
    forecast) or ``check|subject`` (risk, a group anomaly)."""
    head, _, tail = fingerprint.rpartition("|")
    metric = tail.partition(":")[2]
    return f"{head}|{metric}" if metric else head


class Thresholds:
    """Each target's effective threshold: the check's override or [models], raised by feedback."""

    def __init__(self, settings: ModelsSettings, specs: Mapping[str, CheckSpec], store: Store):
        self.settings = settings
        self.specs = specs
        self.raised = predictions.raised_thresholds(store)
        self._anomaly: dict[str, float] = {}

    def base(self, kind: str, target: str) -> float:
        if kind == "forecast":
            return self.settings.forecast_horizon
        if kind == "risk":
            return self.settings.risk_threshold
        spec = self.specs.get(target.partition("|")[0])
        override = spec.anomaly_threshold if spec is not None else None
        return override if override is not None else self.settings.threshold

    def current(self, kind: str, target: str) -> float:
        raised = self.raised.get((kind, target))
        return raised.value if raised is not None else self.base(kind, target)

    def anomaly_for(self, keys: Iterable[str]) -> dict[str, float]:
        """Thresholds by series key (cached: asked for every sample)."""
        cache = self._anomaly
        out = {}
        for key in keys:
            value = cache.get(key)
            if value is None:
                value = cache[key] = self.current("anomaly", key)
            out[key] = value
        return out

    def horizon_for(self, key: str) -> float:
        return self.current("forecast", key)

    def risk_for(self, check: str) -> float:
        return self.current("risk", check)

    def raise_for(self, kind: str, target: str, now: float) -> tuple[float, float]:
        """Raise one target's threshold a level; returns (old, new). Caller's transaction."""
        old = self.current(kind, target)
        new = old / 2 if kind == "forecast" else min(old + (1.0 - old) / 2, 0.99)
        prior = self.raised.get((kind, target))
        raised = predictions.RaisedThreshold(
            kind=kind,
            target=target,
            level=(prior.level if prior else 0) + 1,
            value=new,
            raised_at=now,
        )
        self.raised[(kind, target)] = raised
        self._anomaly.clear()
        return old, new


def precision(counts: Mapping[str, int]) -> float | None:
    judged = counts.get(predictions.USEFUL, 0) + counts.get(predictions.FALSE_ALARM, 0)
    return counts.get(predictions.USEFUL, 0) / judged if judged else None


def record_feedback(
    *,
    store: Store,
    clock: Clock,
    alerting: Alerting,
    thresholds: Thresholds,
    settings: ModelsSettings,
    incident_id: int,
    actor: str,
    verdict: str,
) -> None:
    """Store one click on a prediction incident, reply in its thread, maybe raise a threshold."""
    incident = rows.get_incident(store, incident_id)
    if incident is None or incident.kind not in PREDICTED:
        raise NotAPrediction(incident_id)
    kind, target, now = incident.kind, target_of(incident.fingerprint), clock.now()
    with store.transaction():
        predictions.save_feedback(store, incident_id, actor, kind, target, verdict, now)
        store.record_event(
            FEEDBACK_EVENT, f"incident:{incident_id}", now, actor=actor, verdict=verdict,
            model=kind, target=target,
        )  # fmt: skip
        counts = predictions.feedback_counts(store).get(kind, {})
        useful = counts.get(predictions.USEFUL, 0)
        judged = useful + counts.get(predictions.FALSE_ALARM, 0)
        alerting.reply(
            incident_id,
            messages.feedback_recorded(actor, verdict, kind, precision(counts), useful, judged),
        )
        if verdict != predictions.FALSE_ALARM:
            return
        prior = thresholds.raised.get((kind, target))
        since = prior.raised_at if prior is not None else 0.0
        count = predictions.false_alarms_since(store, kind, target, since)
        if count < settings.false_alarms:
            return
        old, new = thresholds.raise_for(kind, target, now)
        predictions.save_threshold(store, thresholds.raised[(kind, target)])
        store.record_event(THRESHOLD_EVENT, target, now, model=kind, old=old, new=new)
        alerting.reply(incident_id, messages.threshold_raised(kind, target, count, old, new))

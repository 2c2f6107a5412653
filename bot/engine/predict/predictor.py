"""Step 2 of the flow: the predictors score each interval's samples after they are stored.

``Predictor.observe`` runs on the loop right after the runner's write (cheap: streaming
anomaly scores, one forecast fit a minute per series, compiled risk forests). A detection,
a forecast crossing inside the horizon or a risk over its threshold opens its own warning
incident through ``Alerting.handle`` (kind anomaly / forecast / risk, its own
fingerprint: the rule's incident is never touched); it resolves once the condition has been
clear for ``clear_after``. Retraining (``retrain``) fits in a short-lived worker process
(``fit``: scikit-learn is never imported here) and swaps the result in on the loop. A model that raises is logged and switched off for the run: rule
alerting never depends on it. Feedback and threshold rises live in ``feedback``.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot import messages
from bot.clock import Clock
from bot.config import ModelsSettings
from bot.engine.alerting import Alerting
from bot.engine.predict.feedback import Thresholds, record_feedback
from bot.engine.predict.fit import FitPool, refit_anomaly, refit_risks
from bot.engine.predict.history import (
    anomaly_scored,
    check_samples,
    risk_metric,
    stored_risk_names,
    warm_from_store,
)
from bot.engine.predict.incidents import PredictionIncidents
from bot.engine.predict.report import RETRAINED_EVENT, model_rows, prediction_report
from bot.engine.predict.state import ModelFiles, save_all
from bot.engine.transitions import fingerprint as fingerprint_of
from bot.records import IncidentKind
from bot.store import events, predictions
from bot.store.db import Store
from checks.base import CheckSpec, Observation, Status, Threshold
from models import anomaly
from models.failure import LOOKBACK, FailureRisk, RiskState, Sample, window_features
from models.forecast import Forecaster

log = logging.getLogger(__name__)

KEEP_PREDICTIONS = 30 * 86400.0
_CALM = 0.9  # a score under this share of its threshold counts as "clear"
FORECAST_EVERY = 60.0
"""Seconds between two forecasts of one series. A fit costs about 0.3 ms and horizons are
hours: once a minute keeps 100 forecast series near 0.05 % of a core, every 5 s would be 0.6 %."""
STALE_ROUNDS = 3  # a predicted metric unreported for this many of its check's rounds is gone
GROUP_ROWS = 600
"""Rows of history a metric group keeps for its forest (the detector's default is 2,000: at
70 groups of up to 7 metrics that alone would hold about 70 MB of Python lists)."""


def metric_limits(spec: CheckSpec) -> dict[str, list[tuple[str, float, str]]]:
    """Each metric's (name, limit, direction) from the check's warn/critical thresholds.

    A threshold field ``disk`` judges the metric ``disk`` or ``disk_percent``; a field that
    is judged from below (certificate days) forecasts downwards."""
    limits: dict[str, list[tuple[str, float, str]]] = {}
    for name in type(spec).model_fields:
        threshold = getattr(spec, name, None)
        if not isinstance(threshold, Threshold):
            continue
        direction = "down" if name == "cert_expiry_days" else "up"
        metrics = ("cert_days",) if name == "cert_expiry_days" else (name, f"{name}_percent")
        pairs = [(n, v) for n, v in (("warning", threshold.warn), ("critical", threshold.critical))]
        found = [(n, float(v), direction) for n, v in pairs if v is not None]
        if found:
            for metric in metrics:
                limits[metric] = found
    return limits


class Predictor:
    """The three predictors, wired to the store, the clock and alerting."""

    def __init__(
        self,
        *,
        settings: ModelsSettings,
        specs: Mapping[str, CheckSpec],
        store: Store,
        clock: Clock,
        alerting: Alerting,
        model_dir: Path,
    ) -> None:
        self.settings = settings
        self.specs = dict(specs)
        self.store = store
        self.clock = clock
        self.alerting = alerting
        self.files = ModelFiles(model_dir)
        # Only parameters that rarely change go to the detector: its saved state is refused
        # when they differ. Thresholds are passed per series at every interval instead.
        self.detector = (
            anomaly.AnomalyDetector(warmup=settings.warmup, group_rows=GROUP_ROWS)
            if settings.anomaly
            else None
        )
        self.forecaster = Forecaster() if settings.forecast else None
        self.risks: dict[str, FailureRisk] = {}
        self.failed: set[str] = set()
        self.thresholds = Thresholds(settings, self.specs, store)
        # The last LOOKBACK seconds of each check whose risk model predicts (only those: a
        # check without a ready model needs none, and 70 checks at 5 s kept 1.5 MB of rows).
        self.history: dict[str, deque[Sample]] = {}
        self.incidents = PredictionIncidents(store, alerting, settings.clear_after)
        self.forecasts: dict[str, str] = {}  # series key -> its forecast, worded
        self.risk_scores: dict[str, float] = {}
        self.last_fit: dict[str, float] = {}
        self.fit_pids: list[int] = []  # the worker processes the fits ran in (never selfreg)
        self._limits = {name: metric_limits(spec) for name, spec in self.specs.items()}
        self._forecast_due: dict[str, float] = {}
        self._retraining = asyncio.Lock()

    # ---- start and stop ------------------------------------------------------------------
    def load(self) -> None:
        """Restore saved state (refused files are logged, those models start cold) and
        pick up the prediction incidents still open."""
        if self.detector is not None:
            self.files.restore("anomaly", self.detector, anomaly.FEATURES)
            dropped = self.detector.forget(self._anomaly_key)
            if dropped:
                log.info(messages.anomaly_series_dropped(len(dropped)))
        if self.forecaster is not None:
            self.files.restore("forecast", self.forecaster, ("time", "value"))
        if self.settings.failure_risk:
            for check in self.files.risk_names():
                if check in self.specs:
                    model = FailureRisk(
                        horizon=self.settings.horizon, threshold=self.settings.risk_threshold
                    )
                    names = stored_risk_names(self.store, check)
                    if self.files.restore(f"risk-{check}", model, names):
                        self.risks[check] = model
        self.last_fit.update(events.last_event_times(self.store, RETRAINED_EVENT))
        self.incidents.load(self.clock.now())
        self._follow_ready_risks(self.clock.now())

    def _follow_ready_risks(self, now: float) -> None:
        """Keep recent rows for exactly the checks whose risk model is ready: a check that
        became ready gets its last LOOKBACK seconds from the store (its first prediction
        sees a whole window), one that is no longer ready loses its rows."""
        ready = {c for c, m in self.risks.items() if m.status().state is RiskState.READY}
        for check in self.history.keys() - ready:
            del self.history[check]
        for check in sorted(ready - self.history.keys()):
            since = now - LOOKBACK  # the window is (now - LOOKBACK, now], as window_features
            self.history[check] = deque(
                r for r in check_samples(self.store, check, since) if r[0] > since
            )

    def _anomaly_key(self, key: str) -> bool:
        """Whether the detector keeps series ``key``: a configured check's scored metric."""
        return anomaly_scored(key) and key.partition("|")[0] in self.specs

    def save(self) -> None:
        try:
            save_all(self.files, self.detector, self.forecaster, self.risks)
        except Exception as exc:  # a state that cannot be saved must not break a stop
            log.error(messages.model_state_unsaved(str(exc)))

    # ---- every interval, on the loop -----------------------------------------------------
    def observe(self, observations: Sequence[Observation]) -> None:
        """Score what was just recorded; never raises (a failing model is switched off)."""
        try:
            self._observe(observations)
        except Exception:  # outside any one model (the store, a bug here): predictions stop
            log.exception(messages.model_failed("prediction"))
            self.failed.update(("anomaly", "forecast", "risk"))

    def _observe(self, observations: Sequence[Observation]) -> None:
        now = self.clock.now()
        samples: list[tuple[str, float]] = []
        seen_checks: set[str] = set()
        for o in observations:
            if o.status is Status.UNKNOWN or not o.values:
                continue
            seen_checks.add(o.check)
            for metric, value in o.values.items():
                samples.append((f"{o.check}|{o.subject}|{metric}", float(value)))
                if (
                    self.forecaster is not None
                    and "forecast" not in self.failed
                    and metric in self._limits.get(o.check, ())
                ):
                    self.forecaster.observe(f"{o.check}|{o.subject}|{metric}", o.at, value)
            history = self.history.get(o.check)
            if history is not None:
                row = {risk_metric(o.subject, m): float(v) for m, v in o.values.items()}
                history.append((o.at, row))
                while history and history[0][0] <= now - LOOKBACK:
                    history.popleft()
        self.incidents.sweep(now, self._stale_after)
        if not samples:
            return
        self._guard("anomaly", self._anomalies, now, samples)
        self._guard("forecast", self._forecasts, now, samples)
        self._guard("risk", self._risks, now, seen_checks)
        self.incidents.flush()

    def _stale_after(self, check: str) -> float:
        """How long a check's predicted metric may stay unreported before its incident
        resolves: a few of its own rounds, never less than ``clear_after``."""
        spec = self.specs.get(check)
        rounds = STALE_ROUNDS * spec.interval if spec is not None else 0.0
        return max(self.settings.clear_after, rounds)

    def _guard(self, kind: str, stage: Callable[..., None], *args: Any) -> None:
        enabled = {"anomaly": self.detector, "forecast": self.forecaster}.get(kind, True)
        if kind in self.failed or not enabled:
            return
        try:
            stage(*args)
        except Exception:  # any model failure: no prediction, never a broken loop
            log.exception(messages.model_failed(kind))
            self.failed.add(kind)

    def _anomalies(self, now: float, samples: list[tuple[str, float]]) -> None:
        assert self.detector is not None
        samples = [sample for sample in samples if anomaly_scored(sample[0])]
        limits = self.thresholds.anomaly_for([k for k, _ in samples])
        for result in anomaly.score_interval(self.detector, now, samples, limits):
            if not result.detected and not self.incidents.active:
                continue  # nothing open to calm: most intervals, most series
            check, _, rest = result.metric.partition("|")
            subject, _, metric = rest.rpartition("|") if rest.count("|") else (rest, "", "")
            fingerprint = fingerprint_of(check, subject, IncidentKind.ANOMALY, metric)
            if result.detected:
                top = result.contributions[:3]
                if metric:
                    judged = predictions.target_feedback(self.store, "anomaly", result.metric)
                    summary = messages.anomaly_summary(
                        metric, result.value, result.usual_low, result.usual_high,
                        result.score, result.threshold, top, result.basis, now, judged,
                    )  # fmt: skip
                else:
                    count = len(self.detector.members_.get(result.metric, ()))
                    summary = messages.group_anomaly_summary(
                        count, result.score, result.threshold, top
                    )
                detail = {
                    "metric": metric,
                    "value": result.value,
                    "usual": [result.usual_low, result.usual_high],
                    "basis": result.basis,
                    "threshold": result.threshold,
                    "top": [list(t) for t in top],
                }
                self.incidents.raised(
                    "anomaly", check, subject, metric, result.score, summary, detail, now
                )
            else:
                self.incidents.calm(fingerprint, result.score < _CALM * result.threshold, now)

    def _forecasts(self, now: float, samples: list[tuple[str, float]]) -> None:
        assert self.forecaster is not None
        for key, _value in samples:
            check, _, rest = key.partition("|")
            subject, _, metric = rest.rpartition("|")
            limits = self._limits.get(check, {}).get(metric)
            if not limits or self._forecast_due.get(key, 0.0) > now:
                continue
            # staggered by key, so that series started together do not all fit together
            self._forecast_due[key] = now + FORECAST_EVERY * (
                1.0 + zlib.crc32(key.encode()) % 100 / 1000
            )
            horizon = self.thresholds.horizon_for(key)
            fingerprint = fingerprint_of(check, subject, IncidentKind.FORECAST, metric)
            crossing = None
            for name, limit, direction in limits:
                f = self.forecaster.eta(key, limit, now, direction)  # type: ignore[arg-type]
                if f is not None and f.eta_seconds > 0:
                    crossing = (name, limit, f)
                    break
            if crossing is None:
                self.forecasts.pop(key, None)
                self.incidents.calm(fingerprint, True, now)
                continue
            name, limit, f = crossing
            summary = messages.forecast_summary(
                metric, subject, name, limit, f.eta_seconds, f.low_seconds, f.high_seconds
            )
            self.forecasts[key] = summary
            if f.eta_seconds <= horizon:
                detail = {"metric": metric, "value": f.value, "limit": limit, "eta": f.eta_seconds,
                          "low": f.low_seconds, "high": f.high_seconds}  # fmt: skip
                self.incidents.raised(
                    "forecast", check, subject, metric, f.eta_seconds, summary, detail, now
                )
            else:
                self.incidents.calm(fingerprint, True, now)

    def _risks(self, now: float, checks: set[str]) -> None:
        for check in sorted(checks):
            model = self.risks.get(check)
            if model is None or model.status().state is not RiskState.READY:
                continue
            score = model.predict_risk(window_features(list(self.history.get(check, ())), now))
            fingerprint = fingerprint_of(check, "", IncidentKind.RISK)
            if score is None:
                continue
            self.risk_scores[check] = score.risk
            threshold = self.thresholds.risk_for(check)
            if score.risk >= threshold:
                summary = messages.risk_summary(
                    check, score.risk, threshold, self.settings.horizon, score.top_features
                )
                detail = {"top": [list(t) for t in score.top_features], "threshold": threshold}
                self.incidents.raised("risk", check, "", "", score.risk, summary, detail, now)
            else:
                self.incidents.calm(fingerprint, score.risk < _CALM * threshold, now)

    # ---- on a schedule: fit in a worker process, swap on the loop -----------------------
    async def retrain(self, *, force: bool = False) -> None:
        """Refit what is due (everything when ``force``) in a worker process, then save.

        The fits run in one short-lived spawned process (``fit.FitPool``), so
        scikit-learn is never imported into selfreg; it is shut down when they are done.
        One retrain at a time: the scheduled one and ``selfreg models train`` queue up
        instead of running two worker processes side by side."""
        async with self._retraining:
            await self._retrain(force=force)

    async def _retrain(self, *, force: bool) -> None:
        now = self.clock.now()
        detector = self.detector
        async with FitPool() as pool:
            if (
                detector is not None
                and "anomaly" not in self.failed
                and (force or detector.fit_due(now))
            ):
                await refit_anomaly(pool, detector, now)
                self.last_fit["anomaly"] = now
            due = now - self.last_fit.get("risk", -1e18) >= self.settings.retrain_every
            if self.settings.failure_risk and (force or due):
                risks = await refit_risks(pool, self.store.path, sorted(self.specs), self.settings)
                if risks is not None:
                    self.risks = risks
                    self.failed.discard("risk")
                    self._follow_ready_risks(self.clock.now())
                self.last_fit["risk"] = now
        self.fit_pids.extend(pool.pids)
        self.save()
        with self.store.transaction():
            for kind in ("anomaly", "risk"):
                if self.last_fit.get(kind) == now:
                    self.store.record_event(RETRAINED_EVENT, kind, now)
            predictions.prune(self.store, now - KEEP_PREDICTIONS)

    def warm_from_store(self) -> int:
        """Replay the store into cold models (``selfreg models train`` with no instance)."""

        def forecast(key: str) -> bool:
            check, _, rest = key.partition("|")
            return rest.rpartition("|")[2] in self._limits.get(check, ())

        return warm_from_store(
            self.store, self.detector, self.forecaster, forecast, self._anomaly_key
        )

    # ---- people ----------------------------------------------------------------------------
    def feedback(self, incident_id: int, actor: str, verdict: str) -> None:
        """A Useful / False alarm click on a prediction incident (see ``feedback``)."""
        record_feedback(
            store=self.store,
            clock=self.clock,
            alerting=self.alerting,
            thresholds=self.thresholds,
            settings=self.settings,
            incident_id=incident_id,
            actor=actor,
            verdict=verdict,
        )

    def report(self, check: str | None = None) -> dict[str, Any]:
        return prediction_report(self, check)

    def model_rows(self) -> list[dict[str, Any]]:
        return model_rows(self)

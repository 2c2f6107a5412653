"""bot.engine.predict.history: the stored samples and rule incidents, as the models take them."""

from __future__ import annotations

from pathlib import Path

from bot.engine.predict.history import (
    check_samples,
    fit_risk_models,
    risk_metric,
    stored_intervals,
    stored_risk_names,
    warm_from_store,
)
from bot.records import Incident, IncidentKind, Severity
from bot.store import Store, incidents
from bot.store.samples import add_samples
from checks.base import Observation, Status
from models.anomaly import AnomalyDetector
from models.failure import RiskState
from models.forecast import Forecaster

T0 = 1_700_000_000.0


def seen(check: str, subject: str, at: float, **values: float) -> Observation:
    return Observation(
        check=check, subject=subject, status=Status.OK, summary="ok", values=values, at=at
    )


def record(store: Store, *observations: Observation) -> None:
    with store.transaction():
        add_samples(store, observations)


def rule_incident(store: Store, check: str, opened: float, kind: IncidentKind) -> None:
    with store.transaction():
        incidents.save_incident(
            store,
            Incident(
                fingerprint=f"{check}||{kind.value}",
                check=check,
                subject="",
                kind=kind,
                severity=Severity.CRITICAL,
                status=Status.CRITICAL,
                summary="down",
                opened_at=opened,
                last_seen_at=opened,
                resolved_at=opened + 60,
            ),
        )


def test_risk_metric_keeps_subjects_apart() -> None:
    assert risk_metric("/data", "disk_percent") == "/data:disk_percent"
    assert risk_metric("", "latency") == "latency"


def test_check_samples_are_one_row_per_time_with_every_subjects_metrics(store: Store) -> None:
    record(
        store,
        seen("disk", "/", T0, disk_percent=40.0),
        seen("disk", "/data", T0, disk_percent=80.0),
        seen("api", "", T0, latency=0.2),
        seen("disk", "/", T0 + 60, disk_percent=41.0),
    )
    assert check_samples(store, "disk") == [
        (T0, {"/:disk_percent": 40.0, "/data:disk_percent": 80.0}),
        (T0 + 60, {"/:disk_percent": 41.0}),
    ]
    assert check_samples(store, "disk", since=T0 + 1) == [(T0 + 60, {"/:disk_percent": 41.0})]
    assert check_samples(store, "nothing") == []


def test_stored_risk_names_are_the_features_of_the_metrics_stored(store: Store) -> None:
    record(store, seen("disk", "/data", T0, disk_percent=80.0, free_bytes=1e9))
    assert stored_risk_names(store, "disk") == (
        "/data:disk_percent:last",
        "/data:disk_percent:mean",
        "/data:disk_percent:max",
        "/data:disk_percent:slope",
        "/data:free_bytes:last",
        "/data:free_bytes:mean",
        "/data:free_bytes:max",
        "/data:free_bytes:slope",
    )


def test_stored_intervals_group_every_check_by_time_oldest_first(store: Store) -> None:
    record(
        store,
        seen("api", "", T0, latency=0.2),
        seen("disk", "/", T0, disk_percent=40.0),
        seen("api", "", T0 + 5, latency=0.3),
    )
    assert list(stored_intervals(store, 0.0)) == [
        (T0, [("api||latency", 0.2), ("disk|/|disk_percent", 40.0)]),
        (T0 + 5, [("api||latency", 0.3)]),
    ]
    assert list(stored_intervals(store, T0 + 1)) == [(T0 + 5, [("api||latency", 0.3)])]
    assert list(stored_intervals(store, T0 + 10)) == []


def test_warm_from_store_replays_history_into_cold_models_only(store: Store) -> None:
    record(
        store,
        *(
            seen("api", "", T0 + 5 * i, latency=0.2 + 0.01 * i, up=1.0, status_code=200.0)
            for i in range(10)
        ),
    )
    detector, forecaster = AnomalyDetector(warmup=5), Forecaster()
    replayed = warm_from_store(store, detector, forecaster, lambda key: key.endswith("latency"))
    assert replayed == 10
    assert set(detector.series_) == {"api||latency", "api||up"}, "codes are not scored"
    assert list(forecaster.series_) == ["api||latency"], "only the forecast keys are forecast"
    assert len(forecaster.series_["api||latency"]) == 10
    again = warm_from_store(store, detector, forecaster)
    assert again == 0, "warm models are left as they are"
    assert len(forecaster.series_["api||latency"]) == 10
    assert warm_from_store(store, None, None) == 0


def test_fit_risk_models_learns_from_samples_with_rule_incidents_as_labels(
    store: Store, tmp_path: Path
) -> None:
    record(store, *(seen("api", "", T0 + 60 * i, latency=0.2) for i in range(120)))
    rule_incident(store, "api", T0 + 3600, IncidentKind.RULE)
    rule_incident(store, "api", T0 + 1800, IncidentKind.ANOMALY)
    fitted = fit_risk_models(store.path, ["api", "quiet"], horizon=600.0, threshold=0.8)
    assert set(fitted) == {"api", "quiet"}
    api = fitted["api"]
    assert api.state_ is RiskState.LEARNING, "too little history to predict yet"
    assert api.n_failures_ == 1, "a prediction incident is never a failure to learn"
    assert 0 < api.n_samples_ < 120
    assert api.feature_names_ == ("latency:last", "latency:mean", "latency:max", "latency:slope")
    assert fitted["quiet"].n_samples_ == 0

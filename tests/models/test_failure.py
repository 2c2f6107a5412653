"""Failure risk: labels from the store's history, a cold start that says so, honest degrading."""

from __future__ import annotations

import logging
import math
import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from models import persistence
from models.base import StateMismatch, clone
from models.failure import (
    FailureRisk,
    RiskState,
    Sample,
    build_dataset,
    feature_names,
    window_features,
)

METRICS = ("errors", "latency_ms")
FAST = {"n_estimators": 10, "min_samples": 300}  # small forests keep the tests quick


def history(hours: float, seed: int = 0) -> tuple[list[Sample], list[tuple[float, float]]]:
    """A service sampled every 30 s that fails every 60 to 120 minutes, its latency and errors
    creeping up over the 12 minutes before; down 3 minutes each time. Benign latency spikes
    in between never end in a failure."""
    rng, samples, spans = random.Random(seed), [], []
    at, end = 0.0, hours * 3600.0
    while at < end:
        fail = at + rng.uniform(3600.0, 7200.0)
        spike = rng.uniform(at + 600.0, fail - 1800.0)
        while at < min(fail, end):
            ramp = max(0.0, 1.0 - (fail - at) / 720.0)
            spiking = spike <= at < spike + 300.0
            latency = 100.0 * (1.0 + 4.0 * ramp + 2.0 * spiking) * rng.lognormvariate(0.0, 0.1)
            errors = float(rng.random() < 0.05 + 0.9 * ramp)
            samples.append((at, {"latency_ms": latency, "errors": errors}))
            at += 30.0
        spans.append((fail, fail + 180.0))
        at = fail + 180.0
    return samples, spans


@pytest.fixture(scope="module")
def trained() -> FailureRisk:
    samples, spans = history(36.0)
    data = build_dataset(samples, spans)
    return FailureRisk(**FAST).fit(data.X, data.y, data.feature_names, times=data.times)


def test_a_model_without_history_says_it_is_learning_and_predicts_nothing() -> None:
    risk = FailureRisk()
    assert risk.status().state is RiskState.LEARNING and risk.status().n_samples == 0
    samples, spans = history(4.0)
    data = build_dataset(samples, spans)
    risk.fit(data.X, data.y, data.feature_names, times=data.times)
    status = risk.status()
    assert status.state is RiskState.LEARNING
    assert (status.n_samples, status.n_failures) == (len(data.y), len(spans) - 1)
    assert status.precision is None and status.recall is None
    assert risk.predict_risk(window_features(samples, samples[-1][0])) is None


def test_rows_before_a_rule_incident_are_labelled_and_the_outage_is_left_out() -> None:
    samples = [(float(at), {"latency_ms": 100.0}) for at in range(0, 3601, 60)]
    data = build_dataset(samples, [(2000.0, 2300.0)], horizon=600.0, step=60.0, lookback=300.0)
    assert list(data.times) == sorted(data.times) and data.times[0] == 300.0
    assert data.times[-1] < 3600.0 - 600.0  # too recent to know the label: left out
    positive = {float(at) for at, y in zip(data.times, data.y, strict=True) if y}
    assert positive == {float(at) for at in range(1440, 2000, 60)}
    assert not any(2000.0 <= at < 2300.0 + 300.0 for at in data.times)  # down, then recovering
    assert data.feature_names == feature_names(["latency_ms"]) and data.X.shape[1] == 4


def test_a_row_summarises_the_last_minutes_of_each_metric() -> None:
    samples = [(float(at), {"latency_ms": at / 30.0}) for at in range(0, 601, 30)]
    samples.append((630.0, {"errors": 3.0}))
    row = window_features(samples, now=630.0, lookback=300.0)
    assert row["latency_ms:last"] == 20.0 and row["latency_ms:max"] == 20.0
    assert row["latency_ms:mean"] == pytest.approx(
        np.mean([at / 30.0 for at in range(360, 601, 30)])
    )
    assert row["latency_ms:slope"] == pytest.approx(2.0)  # per minute
    assert row["errors:last"] == 3.0 and row["errors:slope"] == 0.0


def test_a_trained_model_warns_before_a_failure_and_names_what_moved(trained: FailureRisk) -> None:
    status = trained.status()
    assert status.state is RiskState.READY and status.precision >= 0.5 and status.recall > 0
    samples, spans = history(6.0, seed=1)  # unseen
    fail = spans[1][0]
    before = trained.predict_risk(window_features(samples, fail - 90.0))
    calm = trained.predict_risk(window_features(samples, fail - 2400.0))
    assert before is not None and before.detected and before.risk > calm.risk
    assert before.top_features and before.top_features[0][0].split(":")[0] in METRICS
    assert calm is not None and not calm.detected


def test_the_compiled_forest_predicts_exactly_as_scikit_learn(trained: FailureRisk) -> None:
    samples, spans = history(36.0)
    data = build_dataset(samples, spans)
    forest = RandomForestClassifier(
        n_estimators=10,
        max_depth=8,
        min_samples_leaf=3,
        class_weight="balanced",
        n_jobs=1,
        random_state=0,
    ).fit(data.X, data.y)
    assert np.allclose(trained.predict_proba(data.X), forest.predict_proba(data.X))


def test_a_fit_on_one_class_only_gives_no_prediction() -> None:
    samples, _ = history(24.0)
    data = build_dataset(samples, [])
    risk = FailureRisk(**FAST).fit(data.X, data.y, data.feature_names, times=data.times)
    assert risk.status().state is RiskState.LEARNING and risk.status().n_failures == 0
    assert risk.predict_risk(window_features(samples, samples[-1][0])) is None


def test_a_model_that_learned_nothing_useful_is_unreliable_and_silent() -> None:
    samples, spans = history(36.0)
    rng = random.Random(5)
    noise = [(at, {"latency_ms": rng.gauss(100.0, 10.0)}) for at, _ in samples]
    data = build_dataset(noise, spans)
    risk = FailureRisk(**FAST).fit(data.X, data.y, data.feature_names, times=data.times)
    assert risk.status().state is RiskState.UNRELIABLE
    assert risk.predict_risk(window_features(noise, noise[-1][0])) is None


def test_a_model_that_raises_gives_no_prediction_and_says_it_is_broken(
    trained: FailureRisk, caplog: pytest.LogCaptureFixture
) -> None:
    broken = clone(trained)
    broken.load_state_dict(*trained.state_dict())
    broken.threshold_ = None  # a damaged tree: indexing it raises
    samples, _ = history(2.0)
    with caplog.at_level(logging.ERROR, logger="models.failure"):
        assert broken.predict_risk(window_features(samples, samples[-1][0])) is None
    assert broken.status().state is RiskState.BROKEN and "failure-risk model failed" in caplog.text
    assert broken.predict_risk(window_features(samples, samples[-1][0])) is None


def test_a_restored_model_predicts_exactly_as_the_saved_one(
    trained: FailureRisk, tmp_path: Path
) -> None:
    key = persistence.load_or_create_key(tmp_path / "model.key")
    arrays, meta = trained.state_dict()
    persistence.save(
        tmp_path / "risk.bin", arrays, meta, key=key, feature_names=trained.feature_names_
    )
    restored = FailureRisk(**FAST)
    restored.load_state_dict(
        *persistence.load(tmp_path / "risk.bin", key=key, feature_names=feature_names(METRICS))
    )
    samples, _ = history(6.0, seed=2)
    for now in range(3600, 21600, 900):
        row = window_features(samples, float(now))
        assert restored.predict_risk(row) == trained.predict_risk(row)
    assert restored.status() == trained.status()
    assert all(np.asarray(a).dtype.kind in "fiub" for a in arrays.values())


def test_a_saved_model_for_other_metrics_or_parameters_is_refused(
    trained: FailureRisk, tmp_path: Path
) -> None:
    key = persistence.load_or_create_key(tmp_path / "model.key")
    arrays, meta = trained.state_dict()
    persistence.save(
        tmp_path / "risk.bin", arrays, meta, key=key, feature_names=trained.feature_names_
    )
    with pytest.raises(StateMismatch, match="feature names"):
        persistence.load(tmp_path / "risk.bin", key=key, feature_names=feature_names(["cpu"]))
    other = FailureRisk(horizon=600.0)
    with pytest.raises(StateMismatch, match="params"):
        other.load_state_dict(arrays, meta)
    assert other.status().state is RiskState.LEARNING and not hasattr(other, "value_")


def test_cloning_keeps_the_parameters_and_forgets_the_fit(trained: FailureRisk) -> None:
    fresh = clone(trained)
    assert fresh.get_params() == trained.get_params()
    assert fresh.status().state is RiskState.LEARNING
    assert math.isclose(trained.get_params()["horizon"], 900.0)
    assert fresh.set_params(horizon=600.0) is fresh and fresh.horizon == 600.0
    with pytest.raises(ValueError, match="no parameter 'depth'"):
        fresh.set_params(depth=3)


def test_the_parameters_are_those_scikit_learn_would_see(trained: FailureRisk) -> None:
    from sklearn.base import clone as sklearn_clone  # a test may import it; selfreg does not

    assert sklearn_clone(trained).get_params() == trained.get_params()

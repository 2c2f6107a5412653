"""The anomaly detector: warm-up, detection, causality, group forests, broken models."""

from __future__ import annotations

import logging
import math
import random

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from models.anomaly import (
    FEATURES,
    AnomalyDetector,
    GroupForest,
    _ForestBank,
    fit_group_models,
    score_interval,
)
from models.base import DEFAULT_THRESHOLD, AnomalyScore

KEY = "host|/|cpu"


def noisy(n: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [50.0 + rng.gauss(0.0, 2.0) for _ in range(n)]


def feed(detector: AnomalyDetector, values: list[float], start: float = 0.0, key: str = KEY):
    return [detector.score(key, start + 60.0 * i, v) for i, v in enumerate(values)]


def test_a_new_series_has_no_score_until_it_has_warmed_up() -> None:
    detector = AnomalyDetector(warmup=50)
    results = feed(detector, noisy(80))
    assert results[:50] == [None] * 50
    assert all(isinstance(r, AnomalyScore) and 0.0 <= r.score < 1.0 for r in results[50:])


def test_plain_noise_rarely_crosses_the_default_threshold() -> None:
    results = feed(AnomalyDetector(), noisy(3000, seed=1))
    assert sum(r.detected for r in results if r is not None) <= 6  # about 1 in 700


def test_a_spike_is_detected_once_with_its_usual_range_and_reasons() -> None:
    detector = AnomalyDetector(warmup=100)
    feed(detector, noisy(400))
    [spike, again] = feed(detector, [95.0, 96.0], start=400 * 60.0)
    assert spike.detected and spike.score >= DEFAULT_THRESHOLD
    assert spike.usual_low < 50.0 < spike.usual_high < 95.0
    names = [name for name, _ in spike.contributions]
    assert set(names) <= {*FEATURES, "stuck"} and "value" in names
    assert math.isclose(sum(w for _, w in spike.contributions), 1.0)
    assert not again.detected  # one episode, one detection


def test_a_per_check_threshold_overrides_the_default() -> None:
    strict, lax = AnomalyDetector(warmup=100), AnomalyDetector(warmup=100)
    feed(strict, noisy(400))
    feed(lax, noisy(400))
    seen = strict.score(KEY, 400 * 60.0, 70.0)
    unseen = lax.score(KEY, 400 * 60.0, 70.0, threshold=0.99)
    assert seen.detected and seen.threshold == DEFAULT_THRESHOLD
    assert seen.score == unseen.score and not unseen.detected


def test_non_finite_values_are_skipped_without_learning_them() -> None:
    detector = AnomalyDetector(warmup=10)
    feed(detector, noisy(20))
    assert detector.score(KEY, 9e9, math.nan) is None
    assert detector.score(KEY, 9e9, math.inf) is None
    assert detector.series_[KEY].n == 20


def test_a_score_depends_only_on_the_past() -> None:
    values = noisy(600)
    changed = values[:450] + [v * 3.0 for v in values[450:]]
    first = [r.score if r else None for r in feed(AnomalyDetector(), values)]
    second = [r.score if r else None for r in feed(AnomalyDetector(), changed)]
    assert first[:450] == second[:450]
    assert first[450:] != second[450:]


def test_the_compiled_forest_scores_exactly_like_scikit_learn() -> None:
    X = np.random.default_rng(0).normal(size=(400, 3))
    ours = GroupForest(n_estimators=20, random_state=3).fit(X, feature_names=["a", "b", "c"])
    theirs = IsolationForest(n_estimators=20, max_samples=256, random_state=3).fit(X)
    np.testing.assert_allclose(ours.score_samples(X), -theirs.score_samples(X), rtol=1e-12)
    assert list(ours.feature_names_in_) == ["a", "b", "c"] and ours.n_features_in_ == 3


def two_metric_group(detector: AnomalyDetector, rows: int, seed: int = 1) -> float:
    """Two metrics of one host that always move together; returns the last timestamp."""
    rng, at = random.Random(seed), 0.0
    for _ in range(rows):
        at += 60.0
        base = rng.uniform(0.0, 10.0)
        pair = [("h|cpu|a", base + rng.gauss(0, 0.1)), ("h|cpu|b", base + rng.gauss(0, 0.1))]
        score_interval(detector, at, pair)
    return at


def test_a_group_forest_flags_metrics_that_stop_moving_together() -> None:
    detector = AnomalyDetector(warmup=50, min_group_rows=200, retrain_every=3600.0)
    at = two_metric_group(detector, 150)
    assert not detector.fit_due(at)  # not enough rows yet
    at = two_metric_group(detector, 150)
    assert detector.fit_due(at)
    detector.install(fit_group_models(detector.snapshot(at), detector.template))
    assert not detector.fit_due(at + 60.0)  # next one is an hour away
    results = score_interval(detector, at + 60.0, [("h|cpu|a", 7.0), ("h|cpu|b", 3.0)])
    by_metric = {r.metric: r for r in results}
    assert not by_metric["h|cpu|a"].detected and not by_metric["h|cpu|b"].detected
    assert by_metric["h|cpu"].detected
    assert {name for name, _ in by_metric["h|cpu"].contributions} == {"a", "b"}


def test_a_model_that_raises_degrades_to_no_prediction(caplog: pytest.LogCaptureFixture) -> None:
    detector = AnomalyDetector(warmup=50, min_group_rows=100)
    at = two_metric_group(detector, 150)
    fitted = fit_group_models(detector.snapshot(at), detector.template)
    fitted["h|cpu"].feature_[:] = 99  # a corrupt model: it reads a column that is not there
    detector.install(fitted)
    with caplog.at_level(logging.ERROR, logger="models.anomaly"):
        results = score_interval(detector, at + 60.0, [("h|cpu|a", 5.0), ("h|cpu|b", 5.0)])
    assert sorted(r.metric for r in results) == ["h|cpu|a", "h|cpu|b"]  # metrics still scored
    assert detector.group_models_ == {}
    assert "group models failed" in caplog.text


def test_all_groups_are_scored_in_one_pass_exactly_like_each_forest_alone() -> None:
    rng = np.random.default_rng(0)
    models = {
        f"h{i}|x": GroupForest(n_estimators=10, random_state=i).fit(rng.normal(size=(300, k)))
        for i, k in enumerate((2, 4, 3))
    }
    rows = {g: rng.normal(size=m.n_features_in_) * 3 for g, m in models.items()}
    merged = _ForestBank(models).exceedance(rows)
    for g, m in models.items():
        assert merged[g] == pytest.approx(float(m.exceedance(rows[g][None, :])[0]), rel=1e-12)


def test_a_group_whose_metrics_changed_is_not_scored_by_its_old_forest() -> None:
    detector = AnomalyDetector(warmup=50, min_group_rows=100)
    at = two_metric_group(detector, 150)
    detector.install(fit_group_models(detector.snapshot(at), detector.template))
    samples = [("h|cpu|a", 5.0), ("h|cpu|b", 5.0), ("h|cpu|c", 5.0)]
    results = score_interval(detector, at + 60.0, samples)
    assert "h|cpu" not in {r.metric for r in results}

"""Forecasts: ETAs of trends to a threshold, honest intervals, and none where there is no trend."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from models import persistence
from models.base import StateMismatch
from models.forecast import FEATURES, Forecaster

STEP = 30.0


def feed(
    forecaster: Forecaster,
    slope: float,
    *,
    seconds: float = 3600.0,
    noise: float = 0.5,
    bursts: float = 0.0,
    seed: int = 0,
    start: float = 50.0,
    key: str = "host|/data|disk_percent",
) -> float:
    """Stream a line (``slope`` units a second) with noise and bursts; returns the last time."""
    rng, at = random.Random(seed), 0.0
    while at < seconds:
        burst = 20.0 if rng.random() < bursts else 0.0
        forecaster.observe(key, at, start + slope * at + rng.gauss(0.0, noise) + burst)
        at += STEP
    return at - STEP


def test_a_young_series_gives_no_forecast() -> None:
    forecaster = Forecaster(min_points=30)
    now = feed(forecaster, 0.01, seconds=29 * STEP)
    assert forecaster.eta("host|/data|disk_percent", 92.0, now) is None
    assert forecaster.eta("never|seen|metric", 92.0, now) is None


def test_a_clear_trend_gives_an_eta_within_ten_percent_and_an_interval_holding_it() -> None:
    forecaster = Forecaster()
    slope = 10.0 / 3600.0  # 10 points an hour: from 60 now, 92 in 3.2 h
    now = feed(forecaster, slope)
    forecast = forecaster.eta("host|/data|disk_percent", 92.0, now)
    truth = (92.0 - 50.0 - slope * now) / slope
    assert forecast is not None
    assert abs(forecast.eta_seconds - truth) / truth < 0.10
    assert forecast.low_seconds < forecast.eta_seconds < forecast.high_seconds
    assert forecast.method == "theil-sen" and forecast.threshold == 92.0
    assert forecast.slope == pytest.approx(slope, rel=0.05)


def test_the_interval_holds_the_truth_about_as_often_as_it_claims() -> None:
    slope, held = 10.0 / 3600.0, 0
    for seed in range(40):
        forecaster = Forecaster(confidence=0.9)
        now = feed(forecaster, slope, seed=seed)
        forecast = forecaster.eta("host|/data|disk_percent", 92.0, now)
        truth = (92.0 - 50.0 - slope * now) / slope
        held += forecast is not None and forecast.low_seconds <= truth <= forecast.high_seconds
    assert 0.8 <= held / 40 <= 1.0


def test_a_flat_series_gives_no_forecast() -> None:
    forecaster = Forecaster()
    now = feed(forecaster, 0.0, noise=2.0, bursts=0.03)
    assert forecaster.eta("host|/data|disk_percent", 92.0, now) is None


def test_a_trend_away_from_the_threshold_gives_no_forecast() -> None:
    forecaster = Forecaster()
    now = feed(forecaster, -0.002)
    assert forecaster.eta("host|/data|disk_percent", 92.0, now) is None


def test_bursts_do_not_wreck_the_forecast() -> None:
    slope, seconds = 10.0 / 3600.0, 3600.0
    truth = (92.0 - 50.0 - slope * (seconds - STEP)) / slope
    robust, plain = Forecaster(), Forecaster(robust=False)
    for forecaster in (robust, plain):
        now = feed(forecaster, slope, bursts=0.08, seed=3)
    forecast = robust.eta("host|/data|disk_percent", 92.0, now)
    assert forecast is not None and abs(forecast.eta_seconds - truth) / truth < 0.10
    dragged = plain.eta("host|/data|disk_percent", 92.0, now)
    assert dragged is None or abs(dragged.eta_seconds - truth) > abs(forecast.eta_seconds - truth)


def test_a_falling_series_is_forecast_downwards() -> None:
    forecaster = Forecaster()
    now = feed(forecaster, -10.0 / 3600.0, start=90.0, key="host|/data|free_percent")
    forecast = forecaster.eta("host|/data|free_percent", 5.0, now, direction="down")
    truth = (90.0 - 10.0 / 3600.0 * now - 5.0) / (10.0 / 3600.0)
    assert forecast is not None and abs(forecast.eta_seconds - truth) / truth < 0.10
    assert forecast.slope < 0


def test_a_level_already_past_the_threshold_has_no_time_left() -> None:
    forecaster = Forecaster()
    now = feed(forecaster, 0.01)  # 86 after an hour
    forecast = forecaster.eta("host|/data|disk_percent", 80.0, now)
    assert forecast is not None and forecast.eta_seconds == forecast.high_seconds == 0.0


def test_a_young_series_is_not_extrapolated_far() -> None:
    forecaster = Forecaster(reach=8.0)
    now = feed(forecaster, 1.0 / 3600.0, seconds=40 * STEP, noise=0.01)  # 20 min of samples
    assert forecaster.eta("host|/data|disk_percent", 52.0, now) is not None  # 1.7 h: < 8 x 20 min
    assert forecaster.eta("host|/data|disk_percent", 60.0, now) is None  # 9.7 h: further


def test_old_odd_and_out_of_order_samples_are_left_out() -> None:
    forecaster = Forecaster(window=600.0)
    for at in range(0, 1200, 30):
        forecaster.observe("m", float(at), float(at))
    forecaster.observe("m", 100.0, 1.0)  # out of order
    forecaster.observe("m", 1200.0, math.nan)
    forecaster.observe("m", 1230.0, math.inf)
    times = [at for at, _ in forecaster.series_["m"]]
    assert times[0] >= 1170.0 - 600.0 and times[-1] == 1170.0


def test_a_restored_forecaster_forecasts_the_same(tmp_path: Path) -> None:
    key = persistence.load_or_create_key(tmp_path / "model.key")
    original = Forecaster()
    now = feed(original, 10.0 / 3600.0)
    persistence.save(
        tmp_path / "forecast.bin", *original.state_dict(), key=key, feature_names=FEATURES
    )
    restored = Forecaster()
    restored.load_state_dict(
        *persistence.load(tmp_path / "forecast.bin", key=key, feature_names=FEATURES)
    )
    assert restored.eta("host|/data|disk_percent", 92.0, now) == original.eta(
        "host|/data|disk_percent", 92.0, now
    )


def test_a_state_for_other_parameters_is_refused_and_changes_nothing() -> None:
    original = Forecaster()
    feed(original, 0.01)
    other = Forecaster(window=600.0)
    with pytest.raises(StateMismatch, match="params"):
        other.load_state_dict(*original.state_dict())
    assert other.series_ == {}

"""The streaming stage's newer features: stuck values, counts on a log scale, the usual band
for the time of day, the young-window correction, and a restart in the middle of warm-up."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np

from models import persistence
from models.anomaly import FEATURES, AnomalyDetector
from models.anomaly.transform import LOG, NONE, apply, choose, invert

KEY = "sensor|/|temperature"
STEP = 300.0  # one sample every 5 minutes


def feed(detector: AnomalyDetector, values: list[float], start: int = 0, key: str = KEY):
    return [detector.score(key, (start + i) * STEP, v) for i, v in enumerate(values)]


def sensor(n: int, seed: int = 0) -> list[float]:
    """A temperature with a daily cycle and noise: never the same value twice in a row."""
    rng = random.Random(seed)
    return [
        20.0 + 3.0 * math.sin(2 * math.pi * i * STEP / 86400.0) + rng.gauss(0.0, 0.5)
        for i in range(n)
    ]


def test_a_sensor_stuck_at_its_last_reading_is_detected_as_stuck() -> None:
    detector = AnomalyDetector()
    values = sensor(3000)
    feed(detector, values)
    stuck = feed(detector, [values[-1]] * 40, start=3000)
    detections = [r for r in stuck if r is not None and r.detected]
    assert detections, "a frozen sensor must raise an anomaly within 40 samples"
    assert detections[0].contributions[0][0] == "stuck"


def test_whole_right_skewed_counts_get_the_log_scale_and_other_metrics_do_not() -> None:
    rng = np.random.default_rng(1)
    counts = rng.poisson(rng.lognormal(3.0, 0.6, 300)).astype(float)
    assert choose(counts.tolist(), 1.0)[0] == LOG
    assert choose((counts + 0.5).tolist(), 1.0)[0] == NONE  # not whole numbers
    assert choose(rng.normal(50.0, 2.0, 300).round().tolist(), 1.0)[0] == NONE  # symmetric
    assert choose(counts.tolist(), 0.0)[0] == NONE  # turned off
    code, scale = choose(counts.tolist(), 1.0)
    for x in (0.0, 1.0, 17.0, 412.0):
        assert math.isclose(invert(code, scale, apply(code, scale, x)), x, abs_tol=1e-9)


def test_a_bursty_count_reports_its_usual_band_for_the_time_of_day_in_counts() -> None:
    rng = np.random.default_rng(2)
    detector = AnomalyDetector()
    n = 4 * 288  # four days
    hours = (np.arange(n) * STEP % 86400.0) / 3600.0
    rate = 100.0 * (1.0 + 0.5 * np.cos(2 * np.pi * (hours - 14.0) / 24.0))
    feed(detector, rng.poisson(rate).astype(float).tolist())
    assert detector.series_[KEY].transform == LOG
    [result] = feed(detector, [1500.0], start=n)
    assert result.detected and result.basis == "time of day"
    assert 20.0 < result.usual_low < result.usual_high < 400.0  # counts, not log units


def test_a_young_window_widens_its_unit_until_it_has_grown() -> None:
    detector = AnomalyDetector(warmup=50)
    values = sensor(500, seed=3)
    feed(detector, values[:100])
    young = detector.series_[KEY].windows.young
    feed(detector, values[100:], start=100)
    assert young > 1.1 and detector.series_[KEY].windows.young == 1.0


def test_a_restart_during_warm_up_continues_exactly(tmp_path: Path) -> None:
    key = persistence.load_or_create_key(tmp_path / "model.key")
    values = sensor(700, seed=4)
    original = AnomalyDetector()
    feed(original, values[:120])  # still warming up (300)
    arrays, meta = original.state_dict()
    persistence.save(tmp_path / "s.bin", arrays, meta, key=key, feature_names=FEATURES)
    restored = AnomalyDetector()
    restored.load_state_dict(*persistence.load(tmp_path / "s.bin", key=key, feature_names=FEATURES))
    assert feed(restored, values[120:], start=120) == feed(original, values[120:], start=120)

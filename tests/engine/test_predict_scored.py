"""Which series the anomaly detector scores: codes and clocks are left to the check (and to
forecasts), and a saved series that is no longer scored is dropped at load, said in the log."""

from __future__ import annotations

import logging

from bot.store import samples
from tests.engine.test_predict import Rig, noisy


def test_codes_and_clocks_are_recorded_but_not_scored_for_anomalies(store, tmp_path) -> None:
    rig = Rig(store, tmp_path)
    noisy(rig, 20, status_code=200.0, cert_days=40.0)
    assert rig.predictor.detector is not None
    assert set(rig.predictor.detector.series_) == {"api||latency"}
    assert {"latency", "status_code", "cert_days"} <= {
        metric for _, metric in samples.check_series(store, "api")
    }


def test_saved_series_no_longer_scored_are_dropped_at_load(store, tmp_path, caplog) -> None:
    rig = Rig(store, tmp_path)
    noisy(rig, 20)
    detector = rig.predictor.detector
    assert detector is not None
    for i in range(20):  # as selfreg before this change, or a check since removed, left them
        detector.score("api||status_code", 5.0 * i, 200.0)
        detector.score("gone||latency", 5.0 * i, 0.1)
    rig.predictor.save()
    with caplog.at_level(logging.INFO):
        again = Rig(store, tmp_path)
    assert again.predictor.detector is not None
    assert set(again.predictor.detector.series_) == {"api||latency"}
    assert "2 saved series dropped" in caplog.text

"""Scoring, forecasting and loading saved state never import scikit-learn or SciPy.

Only fitting needs scikit-learn (in a worker process); imported, it and SciPy cost about
90 MB of RSS in the monitor. A fresh interpreter shows what these modules pull in."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from pathlib import Path
import numpy as np
from models import anomaly, failure, forecast, persistence
from models.base import TrainingSnapshot, clone

detector = anomaly.AnomalyDetector(warmup=20)
for i in range(60):
    anomaly.score_interval(detector, 60.0 * i, [("h|s|a", i % 7), ("h|s|b", i % 5)])
forecaster = forecast.Forecaster(robust=False, min_points=5)
for i in range(40):
    forecaster.observe("h|s|disk", float(i), float(i))
assert forecaster.eta("h|s|disk", 100.0, 39.0) is not None  # a Student t quantile
clone(failure.FailureRisk()).status()
key = persistence.load_or_create_key(Path(sys.argv[1]) / "model.key")
persistence.save(Path(sys.argv[1]) / "a.state", *detector.state_dict(), key=key,
                 feature_names=anomaly.FEATURES)
detector.load_state_dict(*persistence.load(Path(sys.argv[1]) / "a.state", key=key,
                                           feature_names=anomaly.FEATURES))
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy"))
assert not loaded, loaded
"""


def test_scoring_forecasting_and_persistence_import_neither_library(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CODE, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr

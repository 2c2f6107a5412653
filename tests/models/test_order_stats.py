"""Medians and percentiles without ``np.median`` / ``np.percentile`` (models.order_stats): the
same numbers as NumPy's, and a selfreg whose models warm up and forecast never imports
``numpy.ma`` (3 MB resident, 10 MB while it loads)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from common.python_child import python_child_env
from models.order_stats import median, percentiles


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 300, 301])
def test_the_median_and_percentiles_are_numpys(n: int) -> None:
    rng = np.random.default_rng(n)
    for values in (rng.normal(size=n), rng.integers(0, 5, size=n).astype(float)):
        assert median(values) == np.median(values)
        q = [0.0, 5.0, 10.0, 37.5, 50.0, 90.0, 100.0]
        assert np.array_equal(percentiles(values, q), np.percentile(values, q))
    rows = rng.normal(size=(5, n))
    assert np.array_equal(median(rows, axis=1), np.median(rows, axis=1))
    assert np.array_equal(median(rows.T, axis=0), np.median(rows.T, axis=0))


USE_THE_MODELS = """
import sys
from models.anomaly import AnomalyDetector
from models.forecast import Forecaster
detector = AnomalyDetector(warmup=50)
for i in range(400):  # past warm-up (a count: the log-scale choice reads percentiles)
    detector.score("c||requests", i * 5.0, float(100 + (i * 7) % 13))
forecaster = Forecaster()
for i in range(500):  # more points than a fit takes: run medians, then Theil-Sen
    forecaster.observe("c||disk", i * 5.0, 50.0 + 0.01 * i + (i % 5) * 0.1)
assert forecaster.eta("c||disk", 90.0, i * 5.0) is not None
print("numpy.ma" in sys.modules)
"""


def test_warming_up_and_forecasting_import_no_masked_arrays() -> None:
    done = subprocess.run(
        [sys.executable, "-c", USE_THE_MODELS],
        capture_output=True,
        text=True,
        timeout=120,
        env=python_child_env(),
        check=True,
    )
    assert done.stdout.strip() == "False", done.stderr

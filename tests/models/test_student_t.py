"""The Student t quantiles the forecaster uses match SciPy's, without SciPy in selfreg."""

from __future__ import annotations

import math

import pytest
from scipy.stats import t as scipy_t  # the reference; only the test imports it

from models import student_t

# 0.5 + confidence / 2 for the confidences a forecast uses (0.9 by default), their lower
# mirrors, and the usual two-sided levels around them
PROBABILITIES = (0.6, 0.75, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 0.05, 0.025, 0.005)


def test_the_quantiles_match_scipy_over_2_to_1000_degrees_of_freedom() -> None:
    worst = 0.0
    for dof in range(2, 1001):
        for p in PROBABILITIES:
            ours, theirs = student_t.quantile(p, dof), float(scipy_t.ppf(p, dof))
            worst = max(worst, abs(ours - theirs) / abs(theirs))
    assert worst < 1e-10


def test_the_distribution_function_matches_scipy() -> None:
    for dof in (1, 2, 3, 4, 7, 30, 31, 250, 1000):
        for t in (-40.0, -2.5, -0.3, 0.0, 0.7, 1.96, 12.0):
            # 1 - P(|T| <= t) loses relative digits far out in a tail, not absolute ones
            ours, theirs = student_t.cdf(t, dof), scipy_t.cdf(t, dof)
            assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-15)
            assert math.isclose(student_t.pdf(t, dof), scipy_t.pdf(t, dof), rel_tol=1e-12)


def test_the_median_is_zero_and_the_quantiles_are_symmetric() -> None:
    assert student_t.quantile(0.5, 7) == 0.0
    assert student_t.quantile(0.05, 9) == -student_t.quantile(0.95, 9)


@pytest.mark.parametrize(("p", "dof"), [(0.0, 5), (1.0, 5), (0.9, 0), (0.9, 2.5)])
def test_a_probability_or_degrees_of_freedom_out_of_range_is_refused(p: float, dof: float) -> None:
    with pytest.raises(ValueError):
        student_t.quantile(p, dof)  # type: ignore[arg-type]

"""Streaming anomaly detection: every sample of every metric, plus a forest per metric group.

Two stages, each where it pays:

1. **Per metric, every sample (streaming, pure Python).** Six features of the trailing
   series: the value, the jump from the previous value, the short-term level (mean of the
   last ``level_span`` samples), the residual from a time-of-day profile, a slow level (an
   exponential average over ``drift_span`` samples; off in the shipped parameters) and the
   spread (range of the last ``spread_span`` samples: near 0 means stuck at one value).
   Whole, right-skewed counts are scored on a log scale chosen at the end of warm-up
   (``transform``). Each feature keeps its last ``window`` values with their median and
   their ``extreme_rank``-th most extreme values at both ends. A sample's *exceedance* for
   a feature is its distance from that median in units of the median's distance to the
   reference extreme: 1 means "as far out as the rare extremes of the recent past". The
   score maps the largest exceedance ``e`` to ``e / (e + 1 + margin)``, so the default
   threshold 0.5 means "beyond the recent extremes by ``margin``" whatever the metric's
   unit, scale or noise: no per-metric tuning (a normally bursty metric has wide extremes,
   so wide bands, not more alerts). Scales are robust (order statistics, not means),
   seasonality is the profile (which an anomaly moves no further than usual residuals do),
   a change point is learned within one window (the new level fills it), and after a
   detection the series is refractory for ``refractory`` samples: one episode, one alert.
   The parameters were chosen by leave-one-category-out on the NAB dev data
   (``bench/nab.py --loco``, docs/predictions.md). Cost: about 6 us a sample.

2. **Per group ("check|subject", two metrics or more), once an interval.** Each metric
   normalised by its own window, plus each metric's departure from the group mean, form one
   row; a ``GroupForest`` (an IsolationForest fitted in a worker on past rows) says whether
   the *combination* is unusual when no single metric is. Every group's forest is merged into
   one flat forest (``_ForestBank``) and scored in a single numpy traversal an interval, with
   no per-call scikit-learn overhead. Its isolation score, and each column against its
   training extremes (isolation saturates outside the training range), become an exceedance
   over the training rows, so the same threshold applies. Measured on NAB, a forest over a
   single metric's features added no detection over stage 1 and cost 30x the time, so single
   metrics do not use one.

See ``models.base`` for how the engine drives a detector.

The package, by stage: ``windows`` (stage 1's windows and exceedances), ``ring`` (the
float32 storage behind them: only the features that cannot be recomputed), ``transform``
(the log scale for counts), ``state`` (one series' saved state),
``scoring`` (exceedance to score, the refractory hold, one interval as the engine runs it),
``forest`` (stage 2's model and its fitting, in a worker), ``bank`` (every group's forest
scored in one traversal), ``groups`` (a group's row and result) and ``detector`` (both
stages behind ``models.base.Detector``, with its saved state). Import from the package:
``from models.anomaly import AnomalyDetector``.
"""

from models.anomaly.bank import _ForestBank as _ForestBank
from models.anomaly.detector import AnomalyDetector
from models.anomaly.forest import (
    GroupForest,
    GroupStates,
    fit_group_models,
    fit_group_states,
    group_models_from_states,
)
from models.anomaly.scoring import score_interval
from models.anomaly.windows import FEATURES

__all__ = [
    "FEATURES",
    "AnomalyDetector",
    "GroupForest",
    "GroupStates",
    "fit_group_models",
    "fit_group_states",
    "group_models_from_states",
    "score_interval",
]

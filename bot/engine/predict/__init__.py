"""Step 2 of the flow: the predictors, split by stage.

- ``predictor``: ``Predictor``, the wiring: feeds each interval's samples to the models, scores
  them (anomaly, forecast, failure risk) and schedules the refits.
- ``incidents``: from a prediction to its warning incident and back.
- ``feedback``: Useful / False alarm clicks, and the thresholds they raise.
- ``fit``: the short-lived worker process the fits run in (scikit-learn never loads here).
- ``state``: the models' saved, signed state files.
- ``history``: the stored samples and incidents, as the models are fitted and warmed on them.
- ``report``: what the predictors know, as plain data for people.
"""

from bot.engine.predict.predictor import GROUP_ROWS, Predictor

__all__ = ["GROUP_ROWS", "Predictor"]

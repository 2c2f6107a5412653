"""Predictor plugins: streaming anomaly scores (``anomaly``), failure risk (``failure``) and
time-to-threshold forecasts (``forecast``), with signed, version-checked persistence."""

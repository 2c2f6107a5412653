"""Predictor plugins (anomaly, failure risk, forecast): none ship yet."""

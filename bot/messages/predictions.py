"""Predictions: anomaly, failure-risk and forecast summaries, feedback and the models.

Read in Slack (incident messages, ``/selfreg predict``) and by ``selfreg models``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from bot.messages.common import clock_time, human_duration, mention_user


def _shares(items: Sequence[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {share:.0%}" for name, share in items)


_WHY = {
    "value": "beyond its usual range",
    "jump": "a sudden jump",
    "level": "a sustained change of level",
    "seasonal": "unusual for the time of day",
    "drift": "a slow drift over hours",
    "spread": "much noisier than usual",
    "stuck": "stuck at one value",
}


def anomaly_why(top: Sequence[tuple[str, float]]) -> str:
    """``a sudden jump 70%, beyond its usual range 30%``: the detector's features in words."""
    return ", ".join(f"{_WHY.get(name, name)} {share:.0%}" for name, share in top)


def usual_band(low: float, high: float, basis: str, at: float | None) -> str:
    """``usual at 09:00 is 80 to 150`` (the band for this time of day) or ``usually 80 to
    150`` (the recent range), in the metric's own unit."""
    if basis == "time of day" and at is not None:
        return f"usual at {time.strftime('%H:%M', time.localtime(at))} is {low:.4g} to {high:.4g}"
    return f"usually {low:.4g} to {high:.4g}"


def metric_feedback(useful: int, false_alarms: int) -> str:
    """``on this metric so far: 2 false alarms of 5 judged``."""
    judged = useful + false_alarms
    alarms = "1 false alarm" if false_alarms == 1 else f"{false_alarms} false alarms"
    return f"on this metric so far: {alarms} of {judged} judged"


def anomaly_summary(
    metric: str,
    value: float,
    low: float,
    high: float,
    score: float,
    threshold: float,
    top: Sequence[tuple[str, float]],
    basis: str = "recent",
    at: float | None = None,
    judged: tuple[int, int] = (0, 0),
) -> str:
    """``errors is unusual: 412 (usual at 09:00 is 80 to 150) · why: a sustained change of
    level 80%, a sudden jump 20% · score 0.83 (threshold 0.50)``, plus the metric's own
    false-alarm count when people have judged its earlier alerts (``judged``: useful, false
    alarms)."""
    text = f"{metric} is unusual: {value:.4g} ({usual_band(low, high, basis, at)})"
    if top:
        text += f" · why: {anomaly_why(top)}"
    text += f" · score {score:.2f} (threshold {threshold:.2f})"
    if sum(judged):
        text += f" · {metric_feedback(*judged)}"
    return text


def group_anomaly_summary(
    metrics: int, score: float, threshold: float, top: Sequence[tuple[str, float]]
) -> str:
    """An unusual combination of a subject's metrics, none unusual on its own."""
    text = (
        f"an unusual combination of its {metrics} metrics · score {score:.2f} "
        f"(threshold {threshold:.2f})"
    )
    return f"{text} · contributing: {_shares(top)}" if top else text


def forecast_summary(
    metric: str,
    subject: str,
    limit_name: str,
    limit: float,
    eta: float,
    low: float,
    high: float,
) -> str:
    """``disk /data reaches 95% (critical) in about 3 h 10 m, between 2 h 40 m and 3 h 50 m``."""
    percent = metric.endswith("_percent")
    what = f"{metric.removesuffix('_percent')} {subject}".strip()
    later = "later" if high == float("inf") else human_duration(high)
    return (
        f"{what} reaches {limit:.4g}{'%' if percent else ''} ({limit_name}) in about "
        f"{human_duration(eta)}, between {human_duration(low)} and {later}"
    )


def risk_summary(
    check: str, risk: float, threshold: float, horizon: float, top: Sequence[tuple[str, float]]
) -> str:
    """``api likely to fail within 15 m: risk 0.91 (threshold 0.80)``."""
    text = (
        f"{check} is likely to fail within {human_duration(horizon)}: risk {risk:.2f} "
        f"(threshold {threshold:.2f})"
    )
    return f"{text} · contributing: {_shares(top)}" if top else text


def prediction_cleared(kind: str, after: float) -> str:
    return f"The {kind} prediction has been clear for {human_duration(after)}."


def prediction_unreported(kind: str, silent: float) -> str:
    return (
        f"The {kind} prediction's metric has not been reported for {human_duration(silent)}: "
        "nothing left to judge, so the incident resolves."
    )


def prediction_title(kind: str) -> str:
    """The word an incident header uses for a predicted incident."""
    return {"anomaly": "ANOMALY", "risk": "PREDICTED FAILURE", "forecast": "FORECAST"}.get(
        kind, kind.upper()
    )


def feedback_recorded(
    actor: str, verdict: str, kind: str, precision: float | None, useful: int, total: int
) -> str:
    said = "useful" if verdict == "useful" else "a false alarm"
    text = f"{mention_user(actor)} marked this prediction {said}."
    if precision is not None:
        text += f" {kind} precision so far: {precision:.0%} ({useful} useful of {total})."
    return text


def threshold_raised(kind: str, target: str, count: int, old: float, new: float) -> str:
    what = " ".join(part for part in target.split("|") if part)
    if kind == "forecast":
        return (
            f"{count} false alarms on {what}: its forecast horizon shrinks from "
            f"{human_duration(old)} to {human_duration(new)}."
        )
    return (
        f"{count} false alarms on {what}: its {kind} threshold rises from {old:.2f} to {new:.2f}."
    )


def not_a_prediction(incident_id: int) -> str:
    return f"incident #{incident_id} is not a prediction: feedback buttons are for predictions"


def model_refused(path: str, reason: str) -> str:
    return f"model state {path} refused ({reason}); that model starts cold"


def anomaly_series_dropped(count: int) -> str:
    return (
        f"anomaly detector: {count} saved series dropped "
        "(a check no longer configured, or a metric no longer scored)"
    )


def model_failed(kind: str) -> str:
    return f"the {kind} model failed and is off until restart; rule alerting is unaffected"


def predict_report(report: Mapping[str, Any], check: str | None) -> str:
    """``/selfreg predict [CHECK]``: anomalies, risks and forecasts as they stand."""
    lines = [f"*Predictions{' for ' + check if check else ''}*"]
    anomalies = report.get("anomalies", [])
    lines.append("*Anomalies*" + ("" if anomalies else ": none open"))
    lines += [f"• {a['what']}: {a['summary']}" for a in anomalies]
    risks = report.get("risks", [])
    head = "*Failure risk*"
    if report.get("risk_precision") is not None:
        head += f" (precision {report['risk_precision']:.0%} of {report['risk_judged']} judged)"
    lines.append(head + ("" if risks else ": no check watched"))
    for r in risks:
        if r["state"] == "learning":
            lines.append(
                f"• {r['check']}: learning: {r['samples']} samples, {r['failures']} failures"
            )
        elif r["risk"] is None:
            lines.append(f"• {r['check']}: {r['state']}")
        else:
            lines.append(
                f"• {r['check']}: risk {r['risk']:.2f} (threshold {r['threshold']:.2f}) · "
                + risk_track(r.get("predicted", 0), r.get("failures_seen", 0), r.get("median_lead"))
            )
    forecasts = report.get("forecasts", [])
    lines.append("*Forecasts*" + ("" if forecasts else ": no crossing in sight"))
    lines += [f"• {f['summary']}" for f in forecasts]
    off = report.get("off", [])
    if off:
        lines.append("Off: " + ", ".join(off))
    return "\n".join(lines)


def models_status(rows: Sequence[Mapping[str, Any]]) -> str:
    """``selfreg models status``: one line per model."""
    out = []
    for r in rows:
        fit = clock_time(r["last_fit"]) if r.get("last_fit") else "never"
        precision = f"{r['precision']:.0%}" if r.get("precision") is not None else "n/a"
        out.append(
            f"{r['model']:<9} {'on' if r['enabled'] else 'off':<3} "
            f"trained: {'yes' if r['trained'] else 'no':<3} samples: {r['samples']:<7} "
            f"last fit: {fit} · precision {precision} "
            f"(useful {r['useful']}, false alarms {r['false_alarms']})"
            + (f" · {r['note']}" if r.get("note") else "")
        )
    return "\n".join(out)


def models_trained(rows: Sequence[Mapping[str, Any]], where: str) -> str:
    return f"Models fitted {where}.\n" + models_status(rows)


def models_off() -> str:
    return "Every model is off: turn them on in [models] (anomaly, failure_risk, forecast)."


# ---- the notes of ``selfreg models status`` (one per model) ----------------------------------
def model_failed_this_run(kind: str) -> str:
    """A model listed as off because it failed since selfreg started."""
    return f"{kind} (failed this run)"


def anomaly_note(metrics: int, forests: int) -> str:
    return f"{metrics} metrics, {forests} group forests"


def risk_learning(check: str, samples: int, failures: int) -> str:
    return f"{check} (learning: {samples} samples, {failures} failures)"


def risk_track(predicted: int, failures: int, median_lead: float | None) -> str:
    """``recall 3 of 4 failures predicted, median lead 12 m``: failure-risk's record on the
    store's own history since its first fit (precision comes from the feedback buttons)."""
    if not failures:
        return "recall: no failure since its first fit"
    text = f"recall: {predicted} of {failures} failures predicted"
    return text + (f", median lead {human_duration(median_lead)}" if median_lead else "")


def risk_ready(checks: Sequence[str]) -> str:
    return f"ready: {', '.join(checks)}"


def forecast_note(series: int) -> str:
    return f"{series} series"

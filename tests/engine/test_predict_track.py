"""Failure-risk's recall and lead time, measured on the store's own incidents."""

from __future__ import annotations

from bot import messages
from bot.config import ModelsSettings
from bot.engine.predict.report import RETRAINED_EVENT, risk_track
from bot.engine.predict.track import track_record
from bot.records import IncidentKind
from bot.store import Store
from tests.engine.test_predict_history import rule_incident

T0 = 1_700_000_000.0
HORIZON = 900.0


def test_a_failure_counts_as_predicted_only_with_a_warning_open_within_the_horizon() -> None:
    failures = [(T0 + 1000, T0 + 1100), (T0 + 5000, None), (T0 + 9000, None)]
    warnings = [
        (T0 + 400, T0 + 1050),  # open until the failure: 600 s lead
        (T0 + 2000, T0 + 2100),  # resolved long before the next failure: no credit
        (T0 + 8800, None),  # 200 s before the third
    ]
    track = track_record(failures, warnings, HORIZON, since=T0)
    assert (track.failures, track.predicted) == (3, 2)
    assert track.leads == (600.0, 200.0) and track.median_lead == 400.0
    assert track.recall == 2 / 3


def test_failures_before_the_models_first_fit_are_not_counted() -> None:
    track = track_record([(T0, None), (T0 + 100, None)], [], HORIZON, since=T0 + 50)
    assert track.failures == 1 and track.recall == 0.0
    assert track_record([(T0, None)], [], HORIZON, since=None).recall is None


class View:
    """The parts of a predictor that ``risk_track`` reads."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.settings = ModelsSettings()


def test_the_report_reads_the_record_from_the_store_and_words_it(store: Store) -> None:
    with store.transaction():
        store.record_event(RETRAINED_EVENT, "risk", T0)
    rule_incident(store, "api", T0 + 100, IncidentKind.RISK)  # open until T0 + 160
    rule_incident(store, "api", T0 + 400, IncidentKind.RULE)  # warned 300 s before
    rule_incident(store, "api", T0 + 9000, IncidentKind.RULE)  # no warning
    track = risk_track(View(store), "api")  # type: ignore[arg-type]
    assert (track.failures, track.predicted, track.leads) == (2, 1, (300.0,))
    text = messages.risk_track(track.predicted, track.failures, track.median_lead)
    assert text == "recall: 1 of 2 failures predicted, median lead 5 m"
    assert messages.risk_track(0, 0, None) == "recall: no failure since its first fit"


def test_predict_shows_the_record_next_to_precision() -> None:
    report = {
        "risks": [
            {
                "check": "api",
                "state": "ready",
                "risk": 0.42,
                "threshold": 0.8,
                "predicted": 3,
                "failures_seen": 4,
                "median_lead": 720.0,
            }
        ],
        "risk_precision": 0.75,
        "risk_judged": 4,
    }
    text = messages.predict_report(report, None)
    assert "*Failure risk* (precision 75% of 4 judged)" in text
    assert "• api: risk 0.42 (threshold 0.80) · recall: 3 of 4 failures predicted" in text
    assert "median lead 12 m" in text

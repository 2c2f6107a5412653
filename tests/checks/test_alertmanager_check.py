"""The alertmanager check's pure parts: times, staleness, wording, severity, and its run."""

from __future__ import annotations

import pytest

from checks.alertmanager import (
    ALERTS,
    AlertmanagerCheck,
    AlertmanagerSpec,
    describe,
    is_stale,
    parse_time,
)
from checks.base import Status
from tests.support.check_context import make_context


def make_check(**fields: object) -> AlertmanagerCheck:
    return AlertmanagerCheck(AlertmanagerSpec(kind="alertmanager", name="am", **fields))


def test_times_as_alertmanager_writes_them() -> None:
    assert parse_time("0001-01-01T00:00:00Z") is None  # a firing alert's endsAt
    assert parse_time("2025-05-14T12:56:45Z") == 1747227405.0
    assert parse_time("2025-05-14T12:56:45.123456789Z") == pytest.approx(1747227405.123456)
    assert parse_time("soon") is None


@pytest.mark.parametrize(
    ("known", "status", "starts", "ends", "stale"),
    [
        (None, "firing", 10, 0, False),
        ({"status": "resolved", "starts": 10, "ends": 20}, "firing", 10, 0, True),  # late firing
        ({"status": "resolved", "starts": 10, "ends": 20}, "firing", 30, 0, False),  # new episode
        ({"status": "firing", "starts": 30, "ends": 0}, "firing", 10, 0, True),  # older episode
        ({"status": "firing", "starts": 30, "ends": 0}, "firing", 30, 0, False),  # a repeat
        ({"status": "firing", "starts": 30, "ends": 0}, "resolved", 10, 20, True),  # old end
        ({"status": "firing", "starts": 30, "ends": 0}, "resolved", 30, 40, False),
    ],
)
def test_stale_deliveries(known, status, starts, ends, stale) -> None:
    assert is_stale(known, status, starts, ends) is stale


def test_the_line_shows_summary_description_labels_and_other_annotations() -> None:
    record = {
        "status": "firing",
        "labels": {"alertname": "HighErrors", "job": "api", "severity": "warning"},
        "annotations": {"summary": "5% errors", "description": "for 5m", "runbook": "r"},
    }
    assert describe(record) == (
        "HighErrors: 5% errors — for 5m · labels job=api, severity=warning · runbook: r"
    )
    assert describe({**record, "status": "resolved"}).startswith("HighErrors resolved: 5% errors")


def test_severity_follows_the_label_and_the_mapping() -> None:
    check = make_check(severities={"page": "critical"}, severity_label="level")
    assert check.severity({"level": "page"}) == "critical"
    assert check.severity({"level": "INFO"}) == "info"
    assert check.severity({"level": "bogus"}) == "warning"
    assert check.severity({}) == "warning"


async def test_a_run_re_reports_what_still_fires(http) -> None:
    firing = {
        "status": "firing",
        "labels": {"alertname": "A", "severity": "critical"},
        "annotations": {},
        "fingerprint": "f1",
    }
    resolved = {**firing, "status": "resolved", "fingerprint": "f2"}
    ctx = make_context(http, committed={ALERTS: {"f1": firing, "f2": resolved}})
    line, alert = await make_check().run(ctx)
    assert line.subject == "" and line.status is Status.OK and line.values == {"firing": 1.0}
    assert line.summary == "1 alert firing from Alertmanager"
    assert alert.subject == "A/f1" and alert.status is Status.CRITICAL
    assert alert.severity == "critical"

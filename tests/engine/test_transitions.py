"""Transitions: alerts come from confirmed changes of status, never from every run."""

from __future__ import annotations

from bot.engine.transitions import consider
from bot.records import Severity
from checks.base import CheckSpec, Observation, Status


def spec(**overrides: object) -> CheckSpec:
    overrides.setdefault("open_after", 1)
    return CheckSpec(kind="test", name="api", **overrides)


def run(statuses: list[Status], check_spec: CheckSpec) -> list[tuple[Status, Status] | None]:
    state, made = None, []
    for at, status in enumerate(statuses):
        observation = Observation(check="api", status=status, summary=status.value, at=float(at))
        state, transition = consider(state, observation, check_spec)
        made.append((transition.previous, transition.current) if transition else None)
    return made


def test_a_steady_ok_check_makes_no_transition() -> None:
    assert run([Status.OK] * 5, spec()) == [None] * 5


def test_a_failure_makes_one_transition_and_repeats_make_none() -> None:
    made = run([Status.OK, Status.CRITICAL, Status.CRITICAL, Status.CRITICAL], spec())
    assert made == [None, (Status.OK, Status.CRITICAL), None, None]


def test_it_waits_for_open_after_consecutive_failures() -> None:
    made = run([Status.CRITICAL, Status.OK, Status.CRITICAL, Status.CRITICAL], spec(open_after=2))
    assert made == [None, None, None, (Status.OK, Status.CRITICAL)]


def test_it_waits_for_recover_after_consecutive_ok_runs() -> None:
    made = run(
        [Status.CRITICAL, Status.OK, Status.CRITICAL, Status.OK, Status.OK], spec(recover_after=2)
    )
    assert made == [(Status.OK, Status.CRITICAL), None, None, None, (Status.CRITICAL, Status.OK)]


def test_a_change_between_failing_statuses_is_announced_at_once() -> None:
    made = run([Status.WARNING, Status.WARNING, Status.CRITICAL], spec(open_after=2))
    assert made == [None, (Status.OK, Status.WARNING), (Status.WARNING, Status.CRITICAL)]


def test_severity_follows_the_status_unless_configured() -> None:
    observation = Observation(check="api", status=Status.UNKNOWN, summary="x", at=1.0)
    _, transition = consider(None, observation, spec())
    assert transition is not None and transition.severity is Severity.ERROR
    _, transition = consider(None, observation, spec(severity="critical"))
    assert transition is not None and transition.severity is Severity.CRITICAL

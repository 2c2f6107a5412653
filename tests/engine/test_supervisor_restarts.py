"""Restart policy as plain functions: at once first, then backing off, and the crash loop."""

from __future__ import annotations

from bot.config import ComponentSettings
from bot.engine.supervisor.restarts import ExitWindow, next_delay, wants_restart


def settings(**fields: object) -> ComponentSettings:
    return ComponentSettings.model_validate({"name": "api", "command": ["x"], **fields})


def test_the_first_restart_is_at_once_then_the_wait_doubles_up_to_the_cap() -> None:
    spec = settings(restart_delay="1s", restart_backoff_max="5s", stable_after="10s")
    delays, previous = [], None
    for _ in range(6):
        previous = next_delay(spec, previous, lived=0.5)
        delays.append(previous)
    assert delays == [0.0, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_component_that_stayed_up_is_restarted_at_once_again() -> None:
    spec = settings(restart_delay="1s", stable_after="10s")
    assert next_delay(spec, 8.0, lived=10.0) == 0.0
    assert next_delay(spec, 8.0, lived=9.9) == 16.0


def test_the_restart_policy_decides_by_exit_code() -> None:
    assert wants_restart(settings(restart="always"), 0)
    assert not wants_restart(settings(restart="on-failure"), 0)
    assert wants_restart(settings(restart="on-failure"), 3)
    assert wants_restart(settings(restart="on-failure"), None)  # adopted: the code is unknown
    assert not wants_restart(settings(restart="never"), 3)


def test_a_crash_loop_is_n_exits_within_the_window() -> None:
    window = ExitWindow(exits=3, window=60.0)
    assert not window.add(0.0)
    assert not window.add(30.0)
    assert not window.add(61.0)  # the exit at 0 has left the window
    assert window.add(62.0)
    window.clear()
    assert window.count() == 0


def test_defaults_match_the_design() -> None:
    spec = settings()
    assert (spec.restart_backoff_max, spec.stable_after) == (30.0, 10.0)
    assert (spec.crash_loop.exits, spec.crash_loop.window) == (5, 60.0)
    assert (spec.log_max_bytes, spec.log_keep, spec.instances) == (10_000_000, 5, 1)

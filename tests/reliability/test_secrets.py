"""One full run with distinctive secrets (tests/support/secrets_run.py): every forged or
foreign click refused with a reason, only the legitimate runs, and no secret anywhere selfreg
wrote (``bench/secrets_scan.py`` prints the figures)."""

from __future__ import annotations

from pathlib import Path

from tests.support.secrets_run import run_and_scan


def test_a_full_run_refuses_every_forged_click_and_writes_no_secret_anywhere(
    tmp_path: Path,
) -> None:
    scan, tally, runs = run_and_scan(tmp_path)
    assert tally.not_refused == {}
    assert len(tally.refused) == 11 and all(tally.reasons.values())
    assert tally.reasons["forged signature"] == "HTTP 401"
    assert "is resolved" in tally.reasons["resolved incident (approve)"]
    assert runs == (2, 2), "action_runs rows and side effects: the two races' runs alone"
    assert scan.places > 40
    assert scan.found == {}

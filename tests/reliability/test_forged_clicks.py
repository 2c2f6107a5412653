"""Forged and foreign clicks on a real ``selfreg run`` in HTTP mode: every one refused with a
reason, no run but the two the races legitimately allow (``bench/forged_clicks.py`` repeats
this round many times and prints the figures)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.click_attacks import Rig, Tally, attack_round
from tests.support.slack_standin import SlackEmulator


def test_every_forged_or_foreign_click_is_refused_with_a_reason_and_runs_nothing(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    rig = Rig(emu, tmp_path)
    tally = Tally()
    try:
        legitimate = attack_round(rig, tally, set())
        time.sleep(1.0)  # a run a refused click had started would have written by now
        rows, lines = rig.runs()
    finally:
        rig.close()
    assert tally.not_refused == {}
    assert len(tally.refused) == 11 and all(tally.reasons.values())
    assert tally.reasons["forged signature"] == "HTTP 401"
    assert "not an approver" in tally.reasons["not an approver"]
    assert "is resolved" in tally.reasons["resolved incident (approve)"]
    assert rows == lines == legitimate == 2

"""``kill -9`` at seeded random moments of a busy selfreg (tests/support/chaos_run.py), three
times, then an escalation that falls due while it is down and a proposal pending across a
kill; ``bench/chaos.py`` does twenty."""

from __future__ import annotations

from pathlib import Path

from tests.support.chaos_run import chaos, escalation_while_down, kill_rounds, pending_across_a_kill
from tests.support.slack_standin import SlackEmulator


def test_kills_lose_nothing_committed_duplicate_nothing_and_resume_what_was_due(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    with chaos(emu, tmp_path, seed=7) as harness:
        kill_rounds(harness, 3)
        escalation_while_down(harness)
        pending_across_a_kill(harness)
        harness.final()
        f = harness.figures
    assert f.lost_rows == 0 and f.integrity_failures == 0 and f.bad_archives == 0
    assert set(f.component_counts) == {1}, "the component was adopted, never started twice"
    assert f.posted_twice == 0 and f.slack_posts == f.incidents
    assert f.proposals_run_twice == 0 and f.side_effects <= f.runs
    assert f.escalations_after_restart == 1
    assert f.pending_approval_ran == 1

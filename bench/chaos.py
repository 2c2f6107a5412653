"""Chaos: ``kill -9`` of a busy selfreg at random moments (seeded), restarted each time.

``tests/support/chaos_run.py``: a real ``selfreg run`` (Slack HTTP mode, the stand-in) with
a check that fails and recovers, escalation, a remediation whose 1.5 s action is often
running, a backup every 2 s and a supervised component; each round runs for 0.5–4 s while
the port flips and pending proposals are approved, then ``kill -9``. Printed: rows committed
before a kill and missing after it, integrity_check failures, broken backup archives, the
component's process count after each restart, Slack posts per incident, runs per proposal
and side effects, the escalation that fell due while selfreg was down, and a proposal
approved after a kill.

    python bench/chaos.py [--kills 20] [--seed 18]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.chaos_run import (  # noqa: E402
    chaos,
    escalation_while_down,
    kill_rounds,
    pending_across_a_kill,
)
from tests.support.slack_selfreg import new_emulator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    started = time.monotonic()
    emu = new_emulator()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="selfreg-chaos-") as tmp,
            chaos(emu, Path(tmp), args.seed) as harness,
        ):
            kill_rounds(harness, args.kills)
            escalation_while_down(harness)
            pending_across_a_kill(harness)
            harness.final()
            f = harness.figures
    finally:
        emu.stop()
    print(
        f"kills: {f.kills} (seed {args.seed}) in {time.monotonic() - started:.0f} s; "
        f"approvals clicked: {f.approvals_clicked}"
    )
    print(
        f"committed rows lost: {f.lost_rows}; integrity_check failures: {f.integrity_failures}; "
        f"broken backup archives: {f.bad_archives}"
    )
    print(
        f"component processes after each start: {sorted(set(f.component_counts))} "
        f"({len(f.component_counts)} starts)"
    )
    print(f"incidents: {f.incidents}; Slack posts: {f.slack_posts}; posted twice: {f.posted_twice}")
    print(
        f"action runs: {f.runs}; proposals run twice: {f.proposals_run_twice}; "
        f"side effects: {f.side_effects}"
    )
    print(f"escalation due while down, fired after the restart: {f.escalations_after_restart}")
    print(f"proposal pending across a kill, approved after: ran {f.pending_approval_ran}")
    ok = (
        f.lost_rows == f.integrity_failures == f.bad_archives == f.posted_twice == 0
        and f.proposals_run_twice == 0
        and set(f.component_counts) == {1}
        and f.escalations_after_restart == 1
        and f.pending_approval_ran == 1
        and f.side_effects <= f.runs
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

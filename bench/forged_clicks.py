"""Forged and foreign clicks: every one refused with a reason, none runs anything.

A real ``selfreg run`` in Slack's HTTP mode (Bolt verifies each request's signature and
timestamp) watches a closed port, so an incident opens with four proposals whose actions
append a line to a file. Each round attacks a fresh set of proposals
(``tests/support/click_attacks.py``): a forged signature, a timestamp 10 minutes old, a
tampered body, a person not on the approver list, the same message as if in another channel,
Alice and Bob racing on a one-person proposal (one runs, the other is told), Alice and Bob
racing on a fresh two-person proposal (together they approve it: one run), a third person and
the first approver clicking after that run, an expired proposal, and an Approve and an
Acknowledge on the incident after it resolved. Then the port closes again, the incident
reopens with fresh proposals, and the next round starts.

Printed: attempts and refusals per case with the first reason seen, and runs counted twice
(``action_runs`` rows and lines the actions wrote) against the legitimate ones (2 a round).

    python bench/forged_clicks.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.click_attacks import Rig, Tally, attack_round  # noqa: E402
from tests.support.slack_selfreg import new_emulator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tally, seen, legitimate = Tally(), set(), 0
    started = time.monotonic()
    emu = new_emulator()
    with tempfile.TemporaryDirectory(prefix="selfreg-clicks-") as tmp:
        rig = Rig(emu, Path(tmp))
        try:
            for _ in range(args.rounds):
                legitimate += attack_round(rig, tally, seen)
            time.sleep(1.0)  # a run a click started would have written by now
            rows, lines = rig.runs()
        finally:
            rig.close()
            emu.stop()
    attempts = sum(tally.refused.values()) + sum(len(v) for v in tally.not_refused.values())
    refused = sum(tally.refused.values())
    print(f"rounds {args.rounds} in {time.monotonic() - started:.0f} s")
    print(f"{'case':48} {'tried':>5} {'refused':>7}  first reason")
    for case in sorted(set(tally.refused) | set(tally.not_refused)):
        got = tally.refused.get(case, 0)
        tried = got + len(tally.not_refused.get(case, []))
        print(f"{case:48} {tried:5d} {got:7d}  {tally.reasons.get(case, '-')[:70]}")
    print(f"refused with a reason: {refused}/{attempts} ({100 * refused / max(attempts, 1):.0f} %)")
    print(f"runs: {rows} action_runs rows, {lines} side effects; legitimate {legitimate}")
    return 0 if refused == attempts and rows == lines == legitimate else 1


if __name__ == "__main__":
    sys.exit(main())

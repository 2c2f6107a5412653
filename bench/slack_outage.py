"""Slack down for 10 minutes of selfreg's clock while 200 incidents open and resolve, then
back with bursts of 429: every incident posted once, in order, resolved; the backlog in
SQLite, Python's heap nearly flat; storm digests as the design says.

In process on a fake clock (``tests/support/outage_run.py``): the real Alerting,
SlackNotifier and OutboxWorker over a store file and the Slack stand-in through a real
AsyncWebClient. Slack answers 503 to everything during the outage; afterwards the first five
delivery passes meet three 429s (Retry-After 1) each on chat.postMessage and chat.update.
The 1 s per-channel pacing is real time and is switched off here (the clock is fake).

    python bench/slack_outage.py [--incidents 200] [--minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.outage_run import run_outage  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # one retry line per row and pass would drown the figures
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="selfreg-outage-") as tmp:
        f = asyncio.run(run_outage(Path(tmp), args.incidents, args.minutes * 60))
    heap = " → ".join(f"{kb:.0f}" for kb in f.heap_kb)
    print(
        f"{f.incidents} incidents over a {f.outage_seconds / 60:.0f} min outage (fake clock), "
        f"run in {time.monotonic() - started:.1f} s"
    )
    print(f"backlog at the end of the outage: {f.backlog_rows} outbox rows in SQLite")
    print(f"Python heap during the outage (KB, each quarter): {heap}")
    print(f"after: {f.drain_passes} delivery passes, {f.throttled} answers were 429")
    print(f"posted once: {f.posted_once}, twice: {f.posted_twice}, missing: {len(f.missing)}")
    print(
        f"last revision resolved: {f.incidents - len(f.not_resolved)}/{f.incidents}; "
        f"out of order: {len(f.out_of_order)}; storm digests: {f.digests}"
    )
    ok = f.posted_once == f.incidents and not (f.missing or f.not_resolved or f.out_of_order)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Secrets: a full run with distinctive values for every secret, and a scan of everything
selfreg wrote for them. Expected: 0 occurrences.

The run and the scan are ``tests/support/secrets_run.py``: Slack (bot, app, signing), web
token, audit key, SMTP password, webhook secret, heartbeat URL and Fly token; a real
``selfreg run`` in Slack's HTTP mode with email, webhook, heartbeat and a Fly check failing
against loopback ports, a round of click attacks, /status, /metrics, /health, a refused
request, ``selfreg status --json``, ``audit export``, a backup, and config errors on
the secret variables. Scanned: console output, every file in the data folder (store, logs,
anchors, the backup unpacked), every Slack call and response-URL post, every answer.

    python bench/secrets_scan.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.secrets_run import run_and_scan  # noqa: E402


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="selfreg-secrets-") as tmp:
        scan, tally, runs = run_and_scan(Path(tmp))
    print(f"run and scan in {time.monotonic() - started:.0f} s")
    print(f"places scanned: {scan.places} ({scan.scanned_bytes / 1e6:.1f} MB)")
    refused = sum(tally.refused.values())
    print(f"click attacks refused: {refused}/{refused + len(tally.not_refused)}; runs {runs}")
    total = sum(len(v) for v in scan.found.values())
    for name, places in sorted(scan.found.items()):
        print(f"  LEAK {name}: {', '.join(sorted(set(places))[:8])}")
    print(f"occurrences of a secret: {total}")
    return 0 if total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Fuzzing every door with hypothesis: cases tried per target, crashes, refusals, and what a
refused input recorded (must be nothing).

Targets (``tests/support/fuzz_inputs.py``, ``fuzz_local.py``): against a real ``selfreg run``
in Slack's HTTP mode with an open incident and proposals, ``/selfreg`` command text,
block_actions payloads shaped from the real sample and view_submission payloads (keys dropped,
values of other types, huge values), and requests on the control socket; in process, config
files through ``load_settings``, chunks of log lines for the ``logfile`` check (invalid UTF-8,
NUL bytes, lines of up to 10 MB) and raw HTTP answers for the ``http`` check from a loopback
server (huge, slow, malformed, cut short).

A crash is a traceback or ERROR line in selfreg's output, an HTTP 5xx, a missing ack, an
answer without text, an exception out of a check or out of the config loader other than
``ConfigError``. Examples are derandomized: the same run gives the same cases.

    python bench/fuzz_inputs.py [--examples 500] [--long-line 10000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.click_attacks import Rig  # noqa: E402
from tests.support.fuzz_inputs import (  # noqa: E402
    CLI_USERS,
    Doors,
    Figures,
    fuzz_block_actions,
    fuzz_control,
    fuzz_slash,
    fuzz_view_submission,
)
from tests.support.fuzz_local import fuzz_config, fuzz_http, fuzz_logfile  # noqa: E402
from tests.support.slack_selfreg import new_emulator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="cases per target")
    parser.add_argument("--long-line", type=int, default=10_000_000, help="longest log line")
    args = parser.parse_args()
    n = args.examples
    print(f"{'target':28} {'tried':>6} {'crashes':>7} {'refused':>7} {'recorded':>9}  first crash")
    results: list[Figures] = []
    emu = new_emulator()
    with tempfile.TemporaryDirectory(prefix="selfreg-fuzz-") as tmp:
        rig = Rig(emu, Path(tmp), CLI_USERS)
        try:
            doors = Doors(rig)
            for target in (fuzz_slash, fuzz_block_actions, fuzz_view_submission, fuzz_control):
                results.append(timed(lambda t=target: t(doors, n)))
        finally:
            rig.close()
            emu.stop()
    results.append(timed(lambda: fuzz_config(n)))
    results.append(timed(lambda: fuzz_logfile(n, args.long_line)))
    results.append(timed(lambda: fuzz_http(n)))
    crashes = sum(len(r.crashes) for r in results)
    recorded = sum(r.recorded_by_refused for r in results)
    print(
        f"cases {sum(r.tried for r in results)}, crashes {crashes}, recorded by refusals {recorded}"
    )
    return 0 if crashes == recorded == 0 else 1


def timed(run) -> Figures:
    started = time.monotonic()
    figures = run()
    print(f"{figures.row()}  ({time.monotonic() - started:.0f} s)", flush=True)
    return figures


if __name__ == "__main__":
    sys.exit(main())

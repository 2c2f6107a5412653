"""Two ``selfreg start`` at the same instant on one data folder: exactly one may run.

Each round launches two ``selfreg start`` processes together (real CLI processes, one tiny
config, Slack off, web on a free loopback port), waits for both to finish, and counts:

- **winners**: starts that exited 0 ("selfreg is running"); exactly one per round is right;
- **refused**: starts that exited 2 saying selfreg already runs, or that another start is
  starting it;
- **running**: selfreg processes alive afterwards whose command line names this data folder's
  config (found in /proc); exactly one per round is right.

Then ``selfreg stop`` ends the round. The single-instance lock is a kernel ``flock`` on
``selfreg.lock`` (``bot/pidfile.py``); before it, the pid file's check-then-create had a
window in which both could pass.

    python bench/double_start.py [--rounds 50]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.selfreg_process import run_cli, selfreg_env  # noqa: E402

REFUSED = "already runs with this data folder"  # or: another start is starting it
IN_PROGRESS = "is starting selfreg with data folder"

CONFIG = """
[[checks]]
name = "self"
kind = "selfreg"
interval = "5s"
"""


def running_for(config: Path) -> list[int]:
    """Live ``selfreg run`` processes started with ``config``."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        line = process.info["cmdline"] or []
        if "run" in line and str(config) in line:
            found.append(process.info["pid"])
    return found


def one_round(config: Path, env: dict[str, str]) -> tuple[int, int, int]:
    """(winners, refused, running) of two simultaneous starts."""
    argv = [sys.executable, "-m", "bot", "start", "--config", str(config)]
    starts = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(s.wait(120), s.communicate()[1]) for s in starts]
    winners = sum(code == 0 for code, _ in results)
    refused = sum(code == 2 and (REFUSED in err or IN_PROGRESS in err) for code, err in results)
    running = len(running_for(config))
    stopped = run_cli("stop", "--config", str(config), env=env, timeout=60)
    if stopped.returncode != 0:
        raise SystemExit(f"stop failed: {stopped.stderr}")
    for _ in range(100):  # the stopped selfreg is gone before the next round
        if not running_for(config):
            break
        time.sleep(0.05)
    return winners, refused, running


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="selfreg-double-") as folder:
        config = Path(folder) / "selfreg.toml"
        config.write_text(CONFIG)
        env = selfreg_env(Path(folder) / "data")
        right = 0
        started = time.monotonic()
        for number in range(1, args.rounds + 1):
            winners, refused, running = one_round(config, env)
            ok = (winners, refused, running) == (1, 1, 1)
            right += ok
            if not ok:
                print(f"round {number}: {winners} started, {refused} refused, {running} running")
        seconds = time.monotonic() - started
    print(
        f"double start: {right}/{args.rounds} rounds with exactly one selfreg running "
        f"(one start exit 0, the other refused with exit 2); {seconds:.0f} s"
    )
    if right != args.rounds:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

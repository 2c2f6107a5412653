"""``selfreg status`` and the other read commands: the whole CLI process, start to exit.

Issue #18 asks ``selfreg status`` under 300 ms. The control-socket request takes a few ms;
what a person waits for is the process: Python starting and the CLI's imports. This starts
``selfreg run`` on a one-check config in a temporary folder, times ``--runs`` runs of
``status``, ``health``, ``alerts`` and ``history`` against it, stops it, and times
``status`` again reading the stopped store. Printed: the median and the slowest wall time
of each, and the modules ``selfreg status`` imported (so a heavy import that comes back
shows).

    python bench/cli_status.py [--runs 10]
    python bench/cli_status.py --tree ../before    # the same against another checkout's code
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env  # noqa: E402

CONFIG = (
    "[models]\nanomaly = false\nforecast = false\nfailure_risk = false\n\n"
    '[[checks]]\nkind = "selfreg"\nname = "self"\ninterval = "5s"\n'
)
HEAVY = ("slack_bolt", "slack_sdk", "sklearn", "aiohttp", "bot.runtime", "bot.web", "models")


def _time(args: list[str], env: dict[str, str], cwd: Path, runs: int) -> str:
    """Median and slowest wall time, and the median CPU time (user + system) of the process,
    which moves less than the wall time when other work shares the machine."""
    walls, cpus = [], []
    for _ in range(runs):
        before = _children_cpu()
        started = time.monotonic()
        done = run_cli(*args, env=env, cwd=cwd)
        walls.append(time.monotonic() - started)
        cpus.append(_children_cpu() - before)
    return (
        f"median {statistics.median(walls) * 1000:.0f} ms, slowest {max(walls) * 1000:.0f} ms, "
        f"CPU {statistics.median(cpus) * 1000:.0f} ms (exit {done.returncode})"
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _heavy_imports(args: list[str], env: dict[str, str], cwd: Path) -> list[str]:
    """Which of ``HEAVY`` the command imported (``-X importtime`` lists every import)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args],
        capture_output=True, text=True, env=env, timeout=60, cwd=cwd,
    )  # fmt: skip
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    return [h for h in HEAVY if any(n == h or n.startswith(f"{h}.") for n in names)]


def main(runs: int, tree: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="selfreg-cli-") as folder:
        tmp = Path(folder)  # also the working folder: `-m bot` would find a checkout there first
        config = tmp / "selfreg.toml"
        config.write_text(CONFIG)
        env = selfreg_env(tmp / "data")
        code = str((tree or ROOT).resolve())
        env["PYTHONPATH"] = os.pathsep.join([code, *filter(None, [env.get("PYTHONPATH")])])
        at = ["--config", str(config)]
        selfreg = SelfregProcess(config, env, cwd=tmp)
        try:
            selfreg.wait_ready(timeout=120)
            for command in ("status", "health", "alerts", "history"):
                print(f"selfreg {command}, running: {_time([command, *at], env, tmp, runs)}")
            heavy = _heavy_imports(["status", *at], env, tmp)
        finally:
            selfreg.stop(60)
        print(f"selfreg status, stopped: {_time(['status', *at], env, tmp, runs)}")
        print(f"heavy modules selfreg status imports: {', '.join(heavy) or 'none'}")
        print(f"({runs} runs each, Python {sys.version.split()[0]}; code: {code})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--tree", type=Path, help="run selfreg from this checkout instead")
    args = parser.parse_args()
    main(args.runs, args.tree)

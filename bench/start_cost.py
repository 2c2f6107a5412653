"""What ``python -OO`` costs and saves a starting selfreg (``bot/interpreter.py``).

``selfreg run`` re-executes itself under ``-OO`` so that the docstrings of the ~900 modules
it imports stay out of memory. Where Python may not write bytecode (PYTHONDONTWRITEBYTECODE,
a read-only install) the ``-OO`` bytecode is compiled from source at every start. This bench
starts a selfreg with zero checks (``bench/overhead.py``'s idle config: models on, Slack off)
``--runs`` times in each of three ways, one after another in turns so the machine's load
falls on all three alike:

- ``as started``: SELFREG_PYTHON_OPTIMIZE=0, the installed bytecode (the baseline);
- ``-OO, compiled each start``: PYTHONDONTWRITEBYTECODE=1, as on this machine;
- ``-OO, bytecode kept``: the ``-OO`` bytecode written once to a PYTHONPYCACHEPREFIX folder
  (a first start fills it), then read, as in the Docker image.

For each it prints the median wall time from launch to "selfreg is running", the CPU the
process used until then (user + system: the kernel keeps them across ``execv``), and its RSS
``--settle`` seconds later.

    python bench/start_cost.py                 # 5 runs each: ~2 min
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import overhead
import psutil

READY = "selfreg is running"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="starts per way (default 5)")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds before RSS is read")
    return parser.parse_args(argv)


def ways(cache: Path) -> dict[str, dict[str, str]]:
    """Each way's environment changes over this one."""
    return {
        "as started": {"SELFREG_PYTHON_OPTIMIZE": "0", "PYTHONDONTWRITEBYTECODE": "1"},
        "-OO, compiled each start": {
            "SELFREG_PYTHON_OPTIMIZE": "2",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        "-OO, bytecode kept": {"SELFREG_PYTHON_OPTIMIZE": "2", "PYTHONPYCACHEPREFIX": str(cache)},
    }


def environment(data_dir: Path, changes: dict[str, str]) -> dict[str, str]:
    """``overhead.py``'s environment without Slack, the bytecode settings of one way."""
    env = overhead.environment(data_dir, None, argparse.Namespace(tree=None))
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"):
        env.pop(name, None)
    return {**env, **changes}


def one_start(config: Path, env: dict[str, str], settle: float) -> tuple[float, float, float]:
    """(seconds to ready, CPU seconds to ready, RSS in MB ``settle`` seconds later)."""
    began = time.monotonic()
    process, log_path = overhead.launch_selfreg(config, env)
    try:
        proc = psutil.Process(process.pid)
        while READY not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > began + 120:
                raise RuntimeError(log_path.read_text(errors="replace"))
            time.sleep(0.01)
        wall = time.monotonic() - began
        times = proc.cpu_times()
        time.sleep(settle)
        return wall, times.user + times.system, proc.memory_info().rss / 1e6
    finally:
        overhead.stop_process(process)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="selfreg-start-") as tmp:
        root = Path(tmp)
        config = root / "idle.toml"
        config.write_text(overhead.config_text(0, checks=False, models=True))
        kinds = ways(root / "pycache")
        one_start(config, environment(root / "warm", kinds["-OO, bytecode kept"]), 0)
        found: dict[str, list[tuple[float, float, float]]] = {name: [] for name in kinds}
        for run in range(args.runs):
            for name, changes in kinds.items():
                env = environment(root / f"d-{run}-{len(found[name])}-{name[:3]}", changes)
                found[name].append(one_start(config, env, args.settle))
                wall, cpu, rss = found[name][-1]
                print(
                    f"run {run + 1} {name:<26} ready {wall:5.2f} s  CPU {cpu:5.2f} s  RSS {rss:5.1f} MB"
                )
        print(f"\nmedian of {args.runs} starts (zero checks, models on, Slack off):")
        print(f"{'':<26}{'to ready':>10}{'CPU':>10}{'RSS':>10}")
        for name, rows in found.items():
            wall, cpu, rss = (statistics.median(column) for column in zip(*rows, strict=True))
            print(f"{name:<26}{wall:>9.2f}s{cpu:>9.2f}s{rss:>7.1f} MB")


if __name__ == "__main__":
    main()

"""Where selfreg's event loop stalled: the stretches in which it never went back to wait for I/O.

Reads a py-spy profile recorded as a timeline (``--idle -f speedscope``: one sample of every
thread every 1/rate s, in order, idle ones included) and prints each stretch of consecutive
samples in which the main thread was not in the selector's wait, longer than
``--longer-than`` ms, with what the loop ran in it (the first frames below the handle the loop
called, by sample count). A check run is skipped when its previous run is still going at its
next turn, so a stretch near the interval (1 s) is what skips runs; the loop-lag probe,
waking every 2 s, sees only some of them.

    py-spy record -p PID -d 140 -r 100 --idle -f speedscope --nonblocking -o loop.json
    python bench/loop_stalls.py loop.json [--longer-than 250] [--rate 100]

``bench/load.py --profile`` records and prints this for its own run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

IDLE = "EpollSelector.select"  # the main thread's frame while the loop waits for I/O
ENTRY = "Handle._run"  # the loop calling one callback or task step


@dataclass(frozen=True)
class Stall:
    at: float  # seconds from the start of the profile
    seconds: float
    what: list[tuple[str, int]]  # the callers below ENTRY, with their sample counts


def record(pid: int, seconds: float, out: Path, rate: int = 100) -> subprocess.Popen[bytes]:
    """Start py-spy on ``pid`` for ``seconds`` (it must be installed: ``pip install py-spy``)."""
    return subprocess.Popen(
        ["py-spy", "record", "-p", str(pid), "-d", str(int(seconds)), "-r", str(rate),
         "--idle", "-f", "speedscope", "--nonblocking", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stalls(path: Path, longer_than: float = 0.25, rate: int = 100, depth: int = 3) -> list[Stall]:
    """The main thread's busy stretches longer than ``longer_than`` seconds, in order."""
    profile = json.loads(path.read_text())
    frames = [f["name"] for f in profile["shared"]["frames"]]
    main = next(p for p in profile["profiles"] if "MainThread" in p["name"])
    found: list[Stall] = []
    start: int | None = None
    samples = main["samples"]
    for index, sample in enumerate([*samples, None]):
        busy = sample is not None and not (sample and frames[sample[-1]] == IDLE)
        if busy and start is None:
            start = index
        elif not busy and start is not None:
            if (index - start) / rate > longer_than:
                what = Counter(_below_entry(s, frames, depth) for s in samples[start:index])
                found.append(Stall(start / rate, (index - start) / rate, what.most_common(4)))
            start = None
    return found


def _below_entry(sample: list[int], frames: list[str], depth: int) -> str:
    names = [frames[i] for i in sample]
    if ENTRY in names:
        names = names[names.index(ENTRY) + 1 :]
    return " > ".join(names[:depth]) or "(no stack)"


def show(found: list[Stall], top: int = 5) -> None:
    """The count, then the ``top`` longest with what ran in them."""
    longest = sorted(found, key=lambda s: s.seconds, reverse=True)[:top]
    print(
        f"  loop stalls over 250 ms (py-spy timeline): {len(found)}, longest "
        + ", ".join(f"{s.seconds * 1000:.0f} ms at +{s.at:.0f} s" for s in longest)
    )
    for stall in longest[:2]:
        shown = "; ".join(f"{name} ({n})" for name, n in stall.what)
        print(f"    {stall.seconds * 1000:.0f} ms at +{stall.at:.0f} s: {shown}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--longer-than", type=float, default=250.0, help="ms")
    parser.add_argument("--rate", type=int, default=100)
    args = parser.parse_args()
    found = stalls(args.profile, args.longer_than / 1000, args.rate)
    for stall in found:
        shown = "; ".join(f"{name} ({n})" for name, n in stall.what)
        print(f"+{stall.at:7.2f} s  {stall.seconds * 1000:5.0f} ms  {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

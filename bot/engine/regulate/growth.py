"""The growth detector: files or folders (``[regulate.growth] paths``) that keep growing with
no rotation. Each detector run measures their sizes (in a thread: a folder walk is I/O) and
stores them as samples of the series ``regulate:growth|<path>|bytes`` (``:`` is never in a
check's name), so the rollups keep their history like any metric; a steady growth with no
drop of more than ``ROTATION_DROP`` between two points (a rotation, a cleanup) is a finding.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import stat
from collections.abc import Sequence

from bot import messages
from bot.config.regulate import GrowthDetector
from bot.engine.regulate.detectors import Finding
from bot.engine.regulate.trends import fit_line
from bot.store import samples
from bot.store.db import Store
from checks.base import Observation, Status

SERIES_CHECK = "regulate:growth"
METRIC = "bytes"
ROTATION_DROP = 0.1
MAX_FILES = 100_000


def size_of(path: str) -> float | None:
    """Bytes of a file, or of the regular files under a folder (symlinks not followed, at most
    ``MAX_FILES``); None when the path is missing."""
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return float(info.st_size)
    total, seen = 0, 0
    with contextlib.closing(os.fwalk(path, follow_symlinks=False)) as walk:
        for _, _, files, dirfd in walk:
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.stat(name, dir_fd=dirfd, follow_symlinks=False).st_size
                seen += 1
                if seen >= MAX_FILES:
                    return float(total)
    return float(total)


async def measure(store: Store, paths: Sequence[str], at: float) -> None:
    """Store each path's size now (a missing path is skipped)."""
    sizes = await asyncio.to_thread(lambda: [(p, size_of(p)) for p in paths])
    observations = [
        Observation(check=SERIES_CHECK, subject=path, status=Status.OK, summary="",
                    values={METRIC: size}, at=at)
        for path, size in sizes
        if size is not None
    ]  # fmt: skip
    if observations:
        with store.transaction():
            samples.add_samples(store, observations)


def growth(
    path: str, points: Sequence[tuple[float, float]], settings: GrowthDetector
) -> Finding | None:
    """A steady growth without a rotation, or None."""
    line = fit_line(points)
    if line is None or line.span < settings.min_span or line.r2 < settings.min_r2:
        return None
    per_hour = line.slope * 3600
    rotated = any(b < a * (1 - ROTATION_DROP) for (_, a), (_, b) in itertools.pairwise(points))
    if per_hour < settings.min_per_hour or rotated:
        return None
    summary = messages.growth_found(path, per_hour, line.span, line.level, line.r2)
    return Finding(
        detector="growth", check=SERIES_CHECK, subject=path, metric=METRIC, summary=summary,
        evidence={"bytes_per_hour": per_hour, "r2": round(line.r2, 3), "span": line.span,
                  "level": line.level},
    )  # fmt: skip

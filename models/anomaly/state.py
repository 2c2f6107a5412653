"""One series' saved state: what ``AnomalyDetector.state_dict`` writes per metric.

Plain numbers go in the JSON part (``meta``), sequences in named arrays under ``prefix``:
the kept features of the last rows (``models.anomaly.ring``: ``kept x samples``, oldest
first, float32) and the order statistics, the profile, the short memories and, while the
series still warms up, its raw samples. ``restore_series`` also reads format 2 (every
feature of every row, float64): the kept features are taken from it, so a restart after an
upgrade keeps what was learned.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from typing import Any

import numpy as np

from models.anomaly.windows import FEATURES, _Series


def save_series(prefix: str, key: str, s: _Series, arrays: dict[str, np.ndarray]) -> dict:
    """Write ``s``'s arrays into ``arrays``; returns its JSON part."""
    w = s.windows
    arrays[f"{prefix}.kept"] = w.ring.arrays()
    arrays[f"{prefix}.stats"] = w.stats()
    arrays[f"{prefix}.profile"] = np.array(s.profile)
    arrays[f"{prefix}.level"] = np.array(s.level)
    arrays[f"{prefix}.recent"] = np.array(s.recent)
    warm = s.warm if s.warm is not None else array("d")
    arrays[f"{prefix}.warm"] = np.array(warm, dtype=float).reshape(-1, 2)
    return {
        "key": key,
        "n": s.n,
        "prev": s.prev,
        "norm": s.norm,
        "last": s.last_detection,
        "level_sum": s.level_sum,  # a running sum: restored as is, not re-added
        "drift": s.drift,
        "transform": s.transform,
        "scale": s.scale,
        "due": w.due,
        "young": w.young,
        "warming": s.warm is not None,
        "offset": w.ring.offset,
        "count": w.ring.count,
        "rows": w.rows,
        "since": w.since,
        "filled": w.filled,
    }


def restore_series(
    prefix: str, s: _Series, item: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> None:
    """Put back into a fresh ``s`` what ``save_series`` (or format 2) wrote."""
    s.n, s.prev, s.norm, s.last_detection = item["n"], item["prev"], item["norm"], item["last"]
    s.level_sum, s.drift = item["level_sum"], item["drift"]
    s.transform, s.scale = int(item["transform"]), float(item["scale"])
    w = s.windows
    if f"{prefix}.kept" in arrays:
        w.ring.load(arrays[f"{prefix}.kept"], float(item["offset"]), int(item["count"]))
        w.rows, w.since, w.filled = int(item["rows"]), int(item["since"]), int(item["filled"])
    else:
        _restore_format_2(s, arrays[f"{prefix}.windows"])
    w.due, w.young = int(item["due"]), float(item["young"])
    w.restore_stats(arrays[f"{prefix}.stats"])
    s.profile = array("d", (float(v) for v in arrays[f"{prefix}.profile"]))
    s.level.extend(float(v) for v in arrays[f"{prefix}.level"])
    s.recent.extend(float(v) for v in arrays[f"{prefix}.recent"])
    warm = arrays[f"{prefix}.warm"]
    s.warm = array("d", (float(v) for v in warm.ravel())) if item["warming"] else None


def _restore_format_2(s: _Series, rows: np.ndarray) -> None:
    """Format 2 kept every feature of the last rows (``features x rows``, float64): keep the
    value, seasonal residual and slow level. The values before the oldest row were not
    saved, so the oldest ``lead`` rows become the history of the others (whose jump, level
    and spread are then recomputed exactly as they were streamed) and leave the windows."""
    n = rows.shape[1]
    w, offset = s.windows, float(rows[0, -1]) if n else 0.0
    kept = [rows[0] - offset, rows[FEATURES.index("seasonal")]]
    kept.append(rows[FEATURES.index("drift")] - offset)
    w.ring.load(np.array(kept), offset, n)
    w.rows = max(n - w.ring.lead, 0)
    w.filled, w.since = n, 0  # the saved order statistics still describe all n rows

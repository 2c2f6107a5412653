"""One series' saved state: what ``AnomalyDetector.state_dict`` writes per metric.

Plain numbers go in the JSON part (``meta``), sequences in named arrays under ``prefix``:
the windows' ring (``features x filled``, oldest first) and order statistics, the profile,
the short memories and, while the series still warms up, its raw samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from models.anomaly.windows import _Series, _Windows


def save_series(prefix: str, key: str, s: _Series, arrays: dict[str, np.ndarray]) -> dict:
    """Write ``s``'s arrays into ``arrays``; returns its JSON part."""
    w = s.windows
    arrays[f"{prefix}.windows"] = w.chronological()
    arrays[f"{prefix}.stats"] = w.stats()
    arrays[f"{prefix}.profile"] = np.array(s.profile)
    arrays[f"{prefix}.level"] = np.array(s.level)
    arrays[f"{prefix}.recent"] = np.array(s.recent)
    arrays[f"{prefix}.warm"] = np.array(s.warm if s.warm is not None else [], dtype=float)
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
    }


def restore_series(
    prefix: str, s: _Series, item: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> None:
    """Put back into a fresh ``s`` what ``save_series`` wrote."""
    s.n, s.prev, s.norm, s.last_detection = item["n"], item["prev"], item["norm"], item["last"]
    s.level_sum, s.drift = item["level_sum"], item["drift"]
    s.transform, s.scale = int(item["transform"]), float(item["scale"])
    size, rank, need = s.windows.ring.shape[1], s.windows.rank, s.windows.need
    s.windows = _Windows.restore(
        size, rank, int(item["due"]), arrays[f"{prefix}.windows"], arrays[f"{prefix}.stats"]
    )
    s.windows.need, s.windows.young = need, float(item["young"])
    s.profile = [float(v) for v in arrays[f"{prefix}.profile"]]
    s.level.extend(float(v) for v in arrays[f"{prefix}.level"])
    s.recent.extend(float(v) for v in arrays[f"{prefix}.recent"])
    warm = arrays[f"{prefix}.warm"]
    s.warm = [(float(a), float(x)) for a, x in warm.reshape(-1, 2)] if item["warming"] else None
